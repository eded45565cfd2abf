package dev.genmesh.region.autoscale.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.genmesh.autoscaler.ScalingObservation.QueueStat;
import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.region.scheduler.Routing;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
import dev.genmesh.testkit.ManualClock;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The autoscaler's view of a region built from the real PostgreSQL request log: per request class and tier, per pool. */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class RegionObservationsTest {
  private static final GenmeshConfig CONFIG = ConfigLoader.defaults();
  private static TestStores stores;

  @BeforeAll
  static void start(TestStores shared) {
    stores = shared;
  }

  static GenerationSpec spec(String model, Tier tier, int size) {
    return new GenerationSpec("a lighthouse", "", model, tier, size, size, 4, 7, 7.5, 1);
  }

  private static KnownWorker worker(String id, String gpu, WorkerState state, List<String> models) {
    Instant now = Instant.now();
    return new KnownWorker(id, gpu, models, List.of(), now, "node", 1000, 0.5, state, "", now);
  }

  @Test
  void queuesArePerRequestClassAndTierAndPoolsReportTheirMeasuredServiceTime(Vertx vertx) throws Exception {
    String database = stores.createDatabase();
    Pool pool = stores.pool(vertx, database);
    Waits.await(new Migrations(vertx.createSharedWorkerExecutor("migrations"), pool).apply());
    RequestLog log = new RequestLog(pool);
    Routing routing = new Routing(CONFIG);
    JsonObject queued = new JsonObject();
    int[] n = {0};
    java.util.function.BiFunction<GenerationSpec, Boolean, String> submit = (spec, withClass) -> {
      String id = "r" + n[0]++;
      try {
        Waits.await(withClass ? log.submit(id, spec, id, "u", queued, routing.requestClass(spec))
            : log.submit(id, spec, id, "u", queued));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return id;
    };
    // sdxl / turbo: three waiting, one of them for two minutes (not an arrival of the last minute).
    submit.apply(spec("genmesh-tiny", Tier.TURBO, 512), true);
    submit.apply(spec("genmesh-tiny", Tier.TURBO, 512), true);
    String old = submit.apply(spec("genmesh-tiny", Tier.TURBO, 512), true);
    Waits.await(pool.preparedQuery("UPDATE requests SET created_at = now() - interval '120 s', queued_at = now() - interval '120 s'"
        + " WHERE id = $1").execute(Tuple.of(old)));
    // high_res / fast: two waiting for 30 s.
    String h1 = submit.apply(spec("genmesh-tiny", Tier.FAST, 1536), true);
    String h2 = submit.apply(spec("genmesh-tiny", Tier.FAST, 1536), true);
    Waits.await(pool.preparedQuery("UPDATE requests SET queued_at = now() - interval '30 s' WHERE id = ANY($1)")
        .execute(Tuple.of(new String[] {h1, h2})));
    // sd3_flux / relax, and a row without a class (as before V11): any pool.
    submit.apply(spec("genmesh-small", Tier.RELAX, 512), true);
    submit.apply(spec("genmesh-tiny", Tier.FAST, 512), false);

    // Completed on L4 in 2 s and 4 s, on A100-40 in 1 s; an L4 run of 100 s 20 minutes ago is too old.
    completed(pool, log, submit.apply(spec("genmesh-tiny", Tier.FAST, 512), true), "L4", 2, 60);
    completed(pool, log, submit.apply(spec("genmesh-tiny", Tier.FAST, 512), true), "L4", 4, 30);
    completed(pool, log, submit.apply(spec("genmesh-small", Tier.FAST, 512), true), "A100-40", 1, 10);
    completed(pool, log, submit.apply(spec("genmesh-tiny", Tier.FAST, 512), true), "L4", 100, 1200);

    List<KnownWorker> workers = List.of(
        worker("w1", "L4", WorkerState.HEALTHY, List.of("genmesh-tiny", "genmesh-small")),
        worker("w2", "L4", WorkerState.NOT_READY, List.of("genmesh-tiny")),
        worker("w3", "A100-40", WorkerState.HEALTHY, List.of("genmesh-small")));
    // What Redis would say: the depths per tier (it keeps no request class).
    Map<Tier, Long> depths = Map.of(Tier.TURBO, 3L, Tier.FAST, 3L, Tier.RELAX, 1L);
    ManualClock clock = new ManualClock(Instant.parse("2026-11-27T10:00:00Z"));
    RegionObservations observations = new RegionObservations(pool, () -> Future.succeededFuture(depths), () -> workers,
        CONFIG::modelFamily, clock);

    ScalingObservation seen = Waits.await(observations.observe(List.of()));

    assertThat(seen.time()).isEqualTo(clock.instant());
    assertThat(seen.queues().keySet()).containsExactlyInAnyOrder("", "sdxl", "high_res", "sd3_flux");
    QueueStat sdxlTurbo = seen.queue("sdxl", Tier.TURBO);
    assertThat(sdxlTurbo.depth()).isEqualTo(3);
    assertThat(sdxlTurbo.averageWaitMs()).isBetween(39_000L, 50_000L); // (0 + 0 + 120 s) / 3
    assertThat(sdxlTurbo.arrivalsPerSecond()).isCloseTo(2 / 60.0, within(1e-9));
    QueueStat highResFast = seen.queue("high_res", Tier.FAST);
    assertThat(highResFast.depth()).isEqualTo(2);
    assertThat(highResFast.averageWaitMs()).isBetween(29_000L, 40_000L);
    assertThat(seen.queue("", Tier.FAST).depth()).isEqualTo(1);
    assertThat(seen.queue("sd3_flux", Tier.RELAX).depth()).isEqualTo(1);
    assertThat(seen.queue("sdxl", Tier.FAST)).isEqualTo(QueueStat.EMPTY);
    assertThat(seen.arrivalsPerSecond()).isCloseTo(6 / 60.0, within(1e-9));

    assertThat(seen.pools().keySet()).containsExactly("A100-40", "L4");
    assertThat(seen.pools().get("L4").meanServiceMs()).isEqualTo(3000);
    assertThat(seen.pools().get("A100-40").meanServiceMs()).isEqualTo(1000);
    assertThat(seen.pools().get("L4").ready()).isEqualTo(1);
    assertThat(seen.pools().get("L4").starting()).isEqualTo(1);
    // Families, once per worker: w1 holds sdxl and sd3, w2 sdxl.
    assertThat(seen.pools().get("L4").loadedModels()).containsExactlyInAnyOrderEntriesOf(Map.of("sdxl", 2, "sd3", 1));
    assertThat(stores.query(database, "SELECT gpu_class FROM requests WHERE status = 'COMPLETED' ORDER BY id"))
        .extracting(row -> row.get("gpu_class")).containsOnly("L4", "A100-40");
    Waits.await(pool.close());
  }

  /** Claimed by a worker of {@code gpu} (the real assign), then completed {@code agoSeconds} ago after {@code runSeconds}. */
  private static void completed(Pool pool, RequestLog log, String id, String gpu, int runSeconds, int agoSeconds) throws Exception {
    assertThat(Waits.await(log.assign(id, "w-" + gpu, gpu, List.of(), 0))).isPresent();
    Waits.await(pool.preparedQuery("UPDATE requests SET status = 'COMPLETED', created_at = now() - interval '30 min',"
        + " started_at = now() - make_interval(secs => $2::int + $3::int + 1),"
        + " safety_pending_at = now() - make_interval(secs => $3::int + 1),"
        + " completed_at = now() - make_interval(secs => $3::int) WHERE id = $1")
        .execute(Tuple.of(id, runSeconds, agoSeconds)));
  }

  @Test
  void redisDepthsAreSplitBetweenClassesInTheLogsProportions() {
    Map<String, Map<Tier, RegionObservations.LogStat>> log = Map.of(
        "high_res", Map.of(Tier.FAST, new RegionObservations.LogStat(2, 10, 0)),
        "sdxl", Map.of(Tier.FAST, new RegionObservations.LogStat(1, 4, 6)));

    Map<String, Map<Tier, QueueStat>> queues = RegionObservations.queues(log, Map.of(Tier.FAST, 7L, Tier.RELAX, 4L));

    // 7 in Redis against 3 waiting in the log: 4 and 2, the rounding's 1 to the larger.
    assertThat(queues.get("high_res").get(Tier.FAST)).isEqualTo(new QueueStat(5, 10_000, 0));
    assertThat(queues.get("sdxl").get(Tier.FAST)).isEqualTo(new QueueStat(2, 4_000, 0.1));
    // Nothing of relax waits in the log: Redis' depth is any pool's.
    assertThat(queues.get("").get(Tier.RELAX).depth()).isEqualTo(4);
    assertThat(queues.get("").get(Tier.FAST).depth()).isZero();
  }
}
