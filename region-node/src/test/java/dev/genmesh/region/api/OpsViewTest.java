package dev.genmesh.region.api;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code GET /internal/ops} on a real region node (PostgreSQL, Redis): the depth and oldest wait of
 * each tier queue, breaker states, the scaling decisions table read, and the region's own alerts
 * heard on {@code genmesh.alerts} (another region's are not its).
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class OpsViewTest {

  @Test
  void queuesBreakersDecisionsAndTheRegionsOwnAlerts(Vertx vertx, TestStores stores) {
    NodeUnderTest node = await(NodeUnderTest.deploy(vertx, TestRegion.fresh(stores).config()));
    try {
      for (int i = 0; i < 2; i++) { // no worker: both wait in relax
        await(node.submit(new GenerationSpec("a quiet harbour", "", "genmesh-tiny", Tier.RELAX, 512, 512, 3, i, 7.5, 1)
            .toJson()));
      }
      vertx.eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", "breaker").put("region", TestRegion.REGION)
          .put("kind", "model").put("name", "genmesh-tiny").put("from", "closed").put("to", "open"));
      vertx.eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", "breaker").put("region", "elsewhere")
          .put("kind", "global").put("name", "global").put("from", "closed").put("to", "open"));

      // Depths are sampled every second by the node.
      Waits.eventually(10, () -> ops(node).getJsonObject("queues").getJsonObject("relax").getLong("depth") == 2,
          "relax depth 2");
      JsonObject ops = ops(node);
      assertThat(ops.getString("region")).isEqualTo(TestRegion.REGION);
      assertThat(ops.getJsonObject("queues").fieldNames()).containsExactlyInAnyOrder("turbo", "fast", "relax");
      assertThat(ops.getJsonObject("queues").getJsonObject("turbo").getLong("depth")).isZero();
      JsonObject breakers = ops.getJsonObject("breakers");
      assertThat(breakers.getJsonObject("global").getString("state")).isEqualTo("closed");
      assertThat(breakers.getJsonObject("models").getString("genmesh-tiny")).isEqualTo("closed");
      assertThat(ops.getJsonArray("scaling_decisions")).as("read from the scaling_decisions table").isEmpty();
      assertThat(ops.getJsonArray("alerts")).hasSize(1);
      assertThat(ops.getJsonArray("alerts").getJsonObject(0).getString("name")).isEqualTo("genmesh-tiny");
    } finally {
      await(node.undeploy());
    }
  }

  private static JsonObject ops(NodeUnderTest node) {
    return await(node.get("/internal/ops")).bodyAsJsonObject();
  }
}
