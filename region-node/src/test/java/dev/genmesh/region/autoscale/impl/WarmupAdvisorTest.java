package dev.genmesh.region.autoscale.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.protocol.scaling.WarmupOrder;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The warm-up order a starting worker gets on the bus: the autoscaler's plan first (each count
 * once), then the last hour's demand from the real request log, then the worker's own order.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class WarmupAdvisorTest {
  private static final GenmeshConfig CONFIG = ConfigLoader.defaults(); // genmesh-tiny: sdxl, genmesh-small: sd3
  private static final String REGION = "us-west";
  private static final List<String> BOTH = List.of("genmesh-tiny", "genmesh-small");
  private static TestStores stores;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-27T10:00:00Z"));
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private Vertx vertx;
  private Pool pool;
  private WarmupAdvisor advisor;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }

  @BeforeEach
  void startAdvisor(Vertx vertx) throws Exception {
    this.vertx = vertx;
    pool = stores.pool(vertx, stores.createDatabase());
    Waits.await(new Migrations(vertx.createSharedWorkerExecutor("migrations"), pool).apply());
    advisor = new WarmupAdvisor(vertx, REGION, pool, CONFIG::modelFamily, 10_000, 180_000, clock, meters);
    Waits.await(advisor.start());
  }

  @AfterEach
  void stopAdvisor() throws Exception {
    Waits.await(advisor.stop());
    Waits.await(pool.close());
  }

  private WarmupOrder.Answer ask(String worker, String gpu, List<String> models) throws Exception {
    JsonObject body = Waits.await(vertx.eventBus().<JsonObject>request(Addresses.warmup(REGION),
        new WarmupOrder.Ask(worker, gpu, models).toJson())).body();
    return WarmupOrder.Answer.fromJson(body);
  }

  /** {@code count} requests for {@code model} in the log now. */
  private void demand(String model, int count) throws Exception {
    RequestLog log = new RequestLog(pool);
    for (int i = 0; i < count; i++) {
      String id = model + "-" + i;
      Waits.await(log.submit(id, new dev.genmesh.protocol.GenerationSpec("a fox", "", model, Tier.FAST, 512, 512, 4, 1, 7.5, 1),
          id, "u", new JsonObject()));
    }
  }

  private ScalingDecision decision(String pool, int from, int to, Map<String, Integer> warm) {
    return new ScalingDecision(clock.instant(), REGION, pool, from, to, "turbo_depth", "trigger",
        "depth.turbo", 12, 10, 30_000, Map.of(), null, warm, List.of());
  }

  private double answers(String reason) {
    return meters.counter(WarmupAdvisor.ANSWERS, "region", REGION, "reason", reason).count();
  }

  @Test
  void withoutPlanOrDemandTheWorkersOwnOrderStandsAndDemandIsReadAtMostOncePerInterval() throws Exception {
    assertThat(ask("w1", "L4", BOTH)).isEqualTo(new WarmupOrder.Answer(BOTH, null, "configured"));

    demand("genmesh-small", 3);
    demand("genmesh-tiny", 1);
    // Within the refresh interval the figures read at the first ask still hold.
    clock.advance(Duration.ofSeconds(9));
    assertThat(ask("w2", "L4", BOTH).reason()).isEqualTo("configured");

    clock.advance(Duration.ofSeconds(1));
    assertThat(ask("w3", "L4", BOTH))
        .isEqualTo(new WarmupOrder.Answer(List.of("genmesh-small", "genmesh-tiny"), null, "demand"));
    assertThat(answers("configured")).isEqualTo(2);
    assertThat(answers("demand")).isEqualTo(1);
  }

  @Test
  void thePlansFamilyComesFirstOncePerPlannedWorkerThenDemand() throws Exception {
    demand("genmesh-small", 3);
    demand("genmesh-tiny", 1);
    advisor.plan(decision("L4", 5, 7, Map.of("sdxl", 2)));
    advisor.plan(decision("A100-40", 3, 4, Map.of("sd3", 1)));

    // A worker that cannot load the planned family leaves its count to the next one.
    assertThat(ask("a", "A100-40", List.of("genmesh-tiny")).reason()).isEqualTo("demand");
    assertThat(ask("b", "A100-40", List.of("genmesh-tiny", "genmesh-small")))
        .isEqualTo(new WarmupOrder.Answer(List.of("genmesh-small", "genmesh-tiny"), "sd3", "plan"));
    // L4 owes two sdxl workers: against the demand, tiny first, twice; then demand again.
    WarmupOrder.Answer planned = new WarmupOrder.Answer(List.of("genmesh-tiny", "genmesh-small"), "sdxl", "plan");
    assertThat(ask("c", "L4", List.of("genmesh-small", "genmesh-tiny"))).isEqualTo(planned);
    assertThat(ask("d", "L4", BOTH)).isEqualTo(planned);
    assertThat(ask("e", "L4", BOTH))
        .isEqualTo(new WarmupOrder.Answer(List.of("genmesh-small", "genmesh-tiny"), null, "demand"));
    assertThat(ask("f", "A100-40", BOTH).reason()).isEqualTo("demand");
    assertThat(answers("plan")).isEqualTo(3);
  }

  @Test
  void plansExpireAndAScaleDownDropsThem() throws Exception {
    advisor.plan(decision("L4", 5, 6, Map.of("sdxl", 1)));
    clock.advance(Duration.ofSeconds(180));
    assertThat(ask("late", "L4", BOTH).reason()).isEqualTo("configured");

    advisor.plan(decision("L4", 6, 8, Map.of("sdxl", 2)));
    advisor.plan(decision("L4", 8, 5, Map.of()));
    assertThat(ask("after-shrink", "L4", BOTH).reason()).isEqualTo("configured");

    advisor.plan(decision("L4", 5, 6, Map.of("sdxl", 1)));
    assertThat(ask("planned", "L4", List.of("genmesh-small", "genmesh-tiny")).family()).isEqualTo("sdxl");
  }

  @Test
  void everyNodeTakesPlansFromTheDecisionEventsAndADecisionSeenTwiceCountsOnce() throws Exception {
    MessageConsumer<JsonObject> events = advisor.listen();
    Waits.await(events.completion());
    ScalingDecision decision = decision("L4", 5, 6, Map.of("sdxl", 1));
    advisor.plan(decision); // the leader's direct hand-in
    vertx.eventBus().publish(Addresses.scalingDecisions(REGION), decision.toJson());
    vertx.eventBus().publish(Addresses.scalingDecisions(REGION), new JsonObject().put("pool", 7)); // unreadable: ignored
    ScalingDecision another = decision("A100-40", 3, 4, Map.of("sd3", 1));
    vertx.eventBus().publish(Addresses.scalingDecisions(REGION), another.toJson()); // from another node's leader
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (advisor.owed("A100-40") == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20); // the events reach the advisor on its own event loop
    }

    assertThat(ask("p1", "L4", BOTH).reason()).isEqualTo("plan");
    assertThat(ask("p2", "L4", BOTH).reason()).as("planned once, not twice").isEqualTo("configured");
    assertThat(ask("p3", "A100-40", BOTH).family()).isEqualTo("sd3");
    Waits.await(events.unregister());
  }

  @Test
  void anAskWithoutAWorkerIdIsABadMessage() {
    assertThat(Waits.failure(vertx.eventBus().request(Addresses.warmup(REGION), new JsonObject().put("models", "x"))))
        .isInstanceOf(ReplyException.class)
        .satisfies(e -> assertThat(((ReplyException) e).failureCode()).isEqualTo(BusFailure.BAD_MESSAGE));
  }
}
