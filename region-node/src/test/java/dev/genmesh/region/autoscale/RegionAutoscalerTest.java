package dev.genmesh.region.autoscale;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.scaling.WarmupOrder;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The autoscaler inside region nodes: real queues and log drive it, one node per region acts. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class RegionAutoscalerTest {
  /** One CPU pool of 1..3 workers that grows as soon as turbo holds 2 requests. */
  static final String SMALL_POOL = """
      gpus:
        cpu: {vram_gb: 8, cost_per_hour: 0.1, speed: 0.1}
      autoscaling:
        enabled: true
        evaluation_interval_ms: 100
        min_workers: 1
        max_workers: 3
        cooldown_up_ms: 0
        cooldown_down_ms: 0
        step_up: 1
        step_down: 1
        tier_minimums: {turbo: 0, fast: 0, relax: 0}
        scale_up:
          turbo_depth: {signal: depth.turbo, op: ">", threshold: 1, for_ms: 0}
          predicted_high: {signal: predicted_load, op: ">", threshold: 1000000, for_ms: 0}
        scale_down:
          queues_low: {signal: depth.all, op: "<", threshold: 1, for_ms: 0}
          predicted_low: {signal: predicted_load, op: "<", threshold: -1, for_ms: 0}
        pools:
          L4: {min: 0, max: 0}
          A10G: {min: 0, max: 0}
          A100-40: {min: 0, max: 0}
          A100-80: {min: 0, max: 0}
          H100: {min: 0, max: 0}
          cpu: {min: 1, max: 3}
      """;
  private static TestStores stores;

  /** What the autoscaler asked for, in order. */
  static final class RecordingActuator implements Actuator {
    final List<String> calls = new CopyOnWriteArrayList<>();

    @Override
    public Future<Void> scaleTo(String pool, int count, ScalePlan plan) {
      calls.add(pool + "=" + count);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> drain(String pool, String workerId) {
      calls.add("drain " + workerId);
      return Future.succeededFuture();
    }
  }

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }


  static GenmeshConfig smallPool(Path dir, GenmeshConfig pointedAtStores) throws Exception {
    Path file = dir.resolve("autoscale.yaml");
    Files.writeString(file, SMALL_POOL);
    GenmeshConfig loaded = ConfigLoader.load(file, Map.of());
    return pointedAtStores.withAutoscaling(loaded.autoscaling()).withGpus(loaded.gpus());
  }

  @Test
  void aTurboBacklogGrowsThePoolThroughOneNodeOnlyAndEveryDecisionIsRecorded(Vertx vertx, @TempDir Path dir)
      throws Exception {
    String database = stores.createDatabase();
    GenmeshConfig config = smallPool(dir, TestRegion.config(stores, database, TestStores.newKeyPrefix()));
    RecordingActuator first = new RecordingActuator();
    RecordingActuator second = new RecordingActuator();
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.scalingDecisions(TestRegion.REGION), m -> events.add(m.body()));
    NodeUnderTest a = await(NodeUnderTest.deploy(vertx, config, Clock.systemUTC(), first));
    NodeUnderTest b = await(NodeUnderTest.deploy(vertx, config, Clock.systemUTC(), second));

    // No workers, empty queues: the pool is raised to its minimum of 1 by whichever node leads.
    Waits.eventually("the pool raised to its minimum", () -> first.calls.contains("cpu=1") || second.calls.contains("cpu=1"));
    RecordingActuator leader = first.calls.contains("cpu=1") ? first : second;
    RecordingActuator follower = leader == first ? second : first;

    for (int i = 0; i < 3; i++) {
      assertThat(await(a.submit(spec("genmesh-tiny", Tier.TURBO))).statusCode()).isEqualTo(202);
    }
    Waits.eventually("the pool grown to its maximum", () -> leader.calls.contains("cpu=3"));
    assertThat(leader.calls).containsSubsequence("cpu=1", "cpu=2", "cpu=3");
    assertThat(follower.calls).isEmpty();
    assertThat(events).extracting(e -> e.getString("pool")).containsOnly("cpu");
    Waits.eventually("decisions in the log", () -> stores.query(database,
        "SELECT count(*) AS n FROM scaling_decisions WHERE pool = 'cpu'").get(0).get("n").equals(3L));
    assertThat(stores.query(database, "SELECT reason FROM scaling_decisions ORDER BY decided_at"))
        .extracting(row -> row.get("reason")).last().isEqualTo("turbo_depth");
    // The requests' class went into the log at submit (the observation's queues are per class).
    assertThat(stores.query(database, "SELECT DISTINCT request_class FROM requests"))
        .extracting(row -> row.get("request_class")).containsExactly("sdxl");
    // Both nodes answer warm-up asks; the leader's plans owe the new cpu workers sdxl (genmesh-tiny).
    List<WarmupOrder.Answer> answers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      answers.add(WarmupOrder.Answer.fromJson(await(vertx.eventBus().<JsonObject>request(
          Addresses.warmup(TestRegion.REGION),
          new WarmupOrder.Ask("new-" + i, "cpu", List.of("genmesh-small", "genmesh-tiny")).toJson())).body()));
    }
    assertThat(answers).allSatisfy(answer -> assertThat(answer.models()).containsExactly("genmesh-tiny", "genmesh-small"));
    assertThat(answers).anySatisfy(answer -> {
      assertThat(answer.reason()).isEqualTo("plan");
      assertThat(answer.family()).isEqualTo("sdxl");
    });

    // The leader goes away: the other node takes the lock and acts from then on.
    NodeUnderTest gone = leader == first ? a : b;
    NodeUnderTest stays = gone == a ? b : a;
    await(gone.undeploy());
    Waits.eventually("the other node leads", () -> !follower.calls.isEmpty());
    await(stays.undeploy());
  }

  private static JsonObject spec(String model, Tier tier) {
    return new GenerationSpec("a red fox in the snow", "", model, tier, 512, 512, 3, 42, 7.5, 1).toJson();
  }
}
