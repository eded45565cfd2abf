package dev.genmesh.simulator.impl.baselines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.autoscaler.ScalingObservation;
import dev.genmesh.autoscaler.ScalingObservation.PoolState;
import dev.genmesh.autoscaler.ScalingObservation.QueueStat;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.impl.SimClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KEDA baseline does what a ScaledObject with Redis Lists triggers does with KEDA's and the
 * HPA's defaults (keda.sh/docs/latest/scalers/redis-lists, .../reference/scaledobject-spec):
 * replicas = ceil(list length / listLength), the lists read every 30 s, up by at most
 * max(+100 %, +4) per 15 s sync, down only to the highest recommendation of the last 300 s, 10 %
 * tolerance, and 1 to 0 only after cooldownPeriod (300 s) of empty lists. Simulated time only.
 */
class KedaRedisPolicyTest {
  private final GenmeshConfig config = ConfigLoader.defaults();
  private final SimClock clock = new SimClock(Instant.parse("2026-11-25T00:00:00Z"));
  private final Map<String, Integer> live = new LinkedHashMap<>(Map.of("L4", 5, "A10G", 1, "A100-40", 3, "A100-80", 0,
      "H100", 1));

  @Test
  void aPoolAsksForOneReplicaPerListLengthOfItsLongestListReadEveryPollingInterval() {
    KedaRedisPolicy keda = new KedaRedisPolicy(config, clock, 5);

    // 60 fast sdxl requests wait (L4 is sdxl's cheapest pool): ceil(60 / 5) = 12; the shorter turbo list asks less.
    List<ScalingDecision> first = evaluateAt(keda, 0, "sdxl", 4, 60, 0);
    assertThat(first).singleElement().satisfies(d -> {
      assertThat(d.pool()).isEqualTo("L4");
      assertThat(d.from()).isEqualTo(5);
      assertThat(d.to()).isEqualTo(12);
      assertThat(d.threshold()).as("listLength").isEqualTo(5);
      assertThat(d.value()).as("the longest list").isEqualTo(60);
    });
    // The lists are read again only after pollingInterval (30 s).
    assertThat(evaluateAt(keda, 10, "sdxl", 0, 200, 0)).as("10 s later").isEmpty();
    assertThat(evaluateAt(keda, 20, "sdxl", 0, 200, 0)).as("20 s later").isEmpty();
    assertThat(evaluateAt(keda, 30, "sdxl", 0, 200, 0)).singleElement()
        .satisfies(d -> assertThat(d.to()).as("ceil(200 / 5)").isEqualTo(40));
  }

  @Test
  void upIsAtMostDoubleOrPlusFourPerFifteenSecondSyncAndDownWaitsForTheFiveMinuteStabilisationWindow() {
    KedaRedisPolicy keda = new KedaRedisPolicy(config, clock, 1);

    // 100 waiting, listLength 1: 100 wanted; two syncs per poll: 5 -> 10 -> 20.
    assertThat(evaluateAt(keda, 0, "sdxl", 0, 100, 0)).singleElement().satisfies(d -> assertThat(d.to()).isEqualTo(20));
    // The lists empty: the HPA keeps the highest recommendation of the last 300 s (20) ...
    for (int t = 30; t < 300; t += 30) {
      assertThat(evaluateAt(keda, t, "sdxl", 0, 0, 0)).as("at %d s", t).isEmpty();
    }
    // ... and then goes down to minReplicaCount (the pool minimum, 5) at once.
    assertThat(evaluateAt(keda, 300, "sdxl", 0, 0, 0)).singleElement().satisfies(d -> {
      assertThat(d.from()).isEqualTo(20);
      assertThat(d.to()).isEqualTo(5);
    });
  }

  @Test
  void aChangeWithinTheTenPercentToleranceIsIgnored() {
    KedaRedisPolicy keda = new KedaRedisPolicy(config, clock, 1);
    live.put("L4", 20);
    assertThat(evaluateAt(keda, 0, "sdxl", 0, 21, 0)).as("21 waiting for 20 replicas: 5 %").isEmpty();
    assertThat(evaluateAt(keda, 30, "sdxl", 0, 23, 0)).as("23 waiting: 15 %").singleElement()
        .satisfies(d -> assertThat(d.to()).isEqualTo(23));
  }

  @Test
  void aPoolWithoutMinimumActivatesAtOnceAndGoesToZeroOnlyAfterTheCooldownPeriod(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("genmesh.yaml");
    Files.writeString(file, "autoscaling:\n  pools:\n    A10G: {min: 0, max: 60}\n");
    GenmeshConfig zeroMin = ConfigLoader.load(file, Map.of());
    KedaRedisPolicy keda = new KedaRedisPolicy(zeroMin, clock, 1);
    live.put("A10G", 0);

    // 3 ControlNet requests (A10G's class) wait: activated and scaled to 3 in one poll.
    assertThat(evaluateAt(keda, 0, "sdxl_controlnet", 0, 3, 0)).filteredOn(d -> d.pool().equals("A10G")).singleElement()
        .satisfies(d -> assertThat(d.to()).isEqualTo(3));
    // Empty lists: the HPA's floor is 1 while KEDA keeps the ScaledObject active; cooldownPeriod later, 0.
    for (int t = 30; t < 300; t += 30) {
      assertThat(evaluateAt(keda, t, "sdxl_controlnet", 0, 0, 0)).as("at %d s", t)
          .noneSatisfy(d -> assertThat(d.to()).isZero());
    }
    assertThat(evaluateAt(keda, 300, "sdxl_controlnet", 0, 0, 0)).filteredOn(d -> d.pool().equals("A10G"))
        .singleElement().satisfies(d -> assertThat(d.to()).isZero());
    assertThat(KedaRedisPolicy.POLLING_INTERVAL_MS).isEqualTo(30_000);
    assertThat(KedaRedisPolicy.COOLDOWN_PERIOD_MS).isEqualTo(300_000);
  }

  @Test
  void aListLengthMustBePositive() {
    assertThatThrownBy(() -> new KedaRedisPolicy(config, clock, 0)).hasMessageContaining("listLength");
  }

  /** One poll: the given depths in one request class's lists; every pool at its {@link #live} count (the actuator obeys). */
  private List<ScalingDecision> evaluateAt(KedaRedisPolicy keda, double seconds, String requestClass, int turbo, int fast,
      int relax) {
    clock.set(seconds);
    Map<String, PoolState> pools = new LinkedHashMap<>();
    live.forEach((pool, count) -> pools.put(pool, new PoolState(count, 0, 0, 0.5, 1000, Map.of())));
    ScalingObservation observation = new ScalingObservation(clock.instant(), pools,
        Map.of(requestClass, ScalingObservation.tiers(new QueueStat(turbo, 0, 0), new QueueStat(fast, 0, 0),
            new QueueStat(relax, 0, 0))), List.of());
    List<ScalingDecision> decisions = keda.evaluate(observation);
    decisions.forEach(d -> live.put(d.pool(), d.to()));
    return decisions;
  }
}
