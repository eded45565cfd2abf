package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The submit rate limit, counted in one real Redis by two edges: a user past their burst gets 429
 * with Retry-After and RateLimit-* headers on either edge, nothing reaches a region, and other users
 * and other tiers are unaffected. The refill rate is one submit per 1000 s, so no test step depends
 * on how fast the machine is.
 */
@ExtendWith(StoresExtension.class)
class EdgeRateLimitTest {
  private static final long S = 10;
  private static final long BURST = 2;

  private TwoEdges edges;

  @BeforeEach
  void start(TestStores stores) {
    edges = new TwoEdges(stores, users -> users.withRateLimits(
        users.rateLimits().withRedis(stores.redisUrl(), TestStores.newKeyPrefix()).with("fast", 0.001, BURST)));
  }

  @AfterEach
  void stop() {
    edges.close();
  }

  @Test
  void aUserPastTheirBurstGets429OnEveryEdgeAndOthersAreServed() {
    HttpResponse<Buffer> one = edges.submit(edges.first, edges.alice, "fast");
    HttpResponse<Buffer> two = edges.submit(edges.second, edges.alice, "fast");
    assertThat(List.of(one.statusCode(), two.statusCode())).containsExactly(202, 202);
    assertThat(one.getHeader("RateLimit-Limit")).isEqualTo(Long.toString(BURST));
    assertThat(List.of(one.getHeader("RateLimit-Remaining"), two.getHeader("RateLimit-Remaining")))
        .as("both edges count the same bucket").containsExactly("1", "0");
    int forwarded = edges.region.submits.size();

    for (int port : List.of(edges.first, edges.second)) {
      HttpResponse<Buffer> refused = edges.submit(port, edges.alice, "fast");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.bodyAsJsonObject().getString("code")).isEqualTo("rate_limited");
      assertThat(refused.bodyAsJsonObject().getString("message")).isNotBlank();
      // One submit per 1000 s: the next is due in about 1000 s.
      assertThat(Long.parseLong(refused.getHeader("Retry-After"))).isBetween(990L, 1000L);
      assertThat(refused.getHeader("RateLimit-Remaining")).isEqualTo("0");
      assertThat(Long.parseLong(refused.getHeader("RateLimit-Reset"))).isBetween(1990L, 2000L);
    }
    assertThat(edges.region.submits).as("nothing refused reached the region").hasSize(forwarded);

    assertThat(edges.submit(edges.second, edges.bob, "fast").statusCode()).as("another user").isEqualTo(202);
    assertThat(edges.submit(edges.first, edges.alice, "relax").statusCode()).as("another tier").isEqualTo(202);

    JsonObject usage = Waits.await(S, edges.get(edges.first, "/v1/usage", edges.alice).send()).bodyAsJsonObject();
    assertThat(usage.getJsonObject("rate_limits").getJsonObject("fast").getLong("burst")).isEqualTo(BURST);
    Waits.eventually(S, () -> Waits.await(S, edges.get(edges.first, "/v1/usage", edges.alice).send()).bodyAsJsonObject()
        .getJsonObject("generations").equals(new JsonObject().put("fast", 2).put("relax", 1)), "alice's month counted");
  }

}
