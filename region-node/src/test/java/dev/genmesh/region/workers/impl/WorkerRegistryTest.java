package dev.genmesh.region.workers.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.HealthConfig;
import dev.genmesh.protocol.WorkerMessages.Heartbeat;
import dev.genmesh.region.workers.WorkerState;
import dev.genmesh.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Worker states from heartbeats, silence and cluster membership, on a clock the test moves. */
class WorkerRegistryTest {
  private static final HealthConfig HEALTH = new HealthConfig(10_000, 30_000, 3);
  private final List<WorkerRegistry.Transition> transitions = new ArrayList<>();
  private ManualClock clock;
  private WorkerRegistry registry;

  @BeforeEach
  void setUp() {
    clock = new ManualClock(Instant.parse("2026-11-27T10:00:00Z"));
    registry = new WorkerRegistry(null, 30_000, HEALTH, clock);
    registry.onTransition(transitions::add);
  }

  private static Heartbeat beat(String id, boolean ready, boolean live, boolean draining, List<String> active) {
    return new Heartbeat(id, "us-west", "cpu", 8192, 4096, List.of("m"), 0.5, active, 0L, Map.of(), ready, live, 4,
        "node-" + id, draining);
  }

  private WorkerState state(String id) {
    return registry.worker(id).orElseThrow().state();
  }

  @Test
  void heartbeatsSayWhetherAWorkerTakesWork() {
    assertThat(registry.mayClaim("w1")).as("not heard from yet: may claim").isTrue();
    registry.heard(beat("w1", false, true, false, List.of()));
    assertThat(state("w1")).isEqualTo(WorkerState.NOT_READY);
    assertThat(registry.mayClaim("w1")).isFalse();
    registry.heard(beat("w1", true, true, false, List.of()));
    assertThat(state("w1")).isEqualTo(WorkerState.HEALTHY);
    assertThat(registry.mayClaim("w1")).isTrue();
    registry.heard(beat("w1", true, true, true, List.of()));
    assertThat(state("w1")).isEqualTo(WorkerState.DRAINING);
    assertThat(registry.mayClaim("w1")).isFalse();
    registry.heard(beat("w1", true, false, false, List.of()));
    assertThat(state("w1")).isEqualTo(WorkerState.NOT_LIVE);
    assertThat(registry.mayClaim("w1")).isFalse();
    assertThat(transitions).extracting(t -> t.worker().state()).containsExactly(WorkerState.NOT_READY,
        WorkerState.HEALTHY, WorkerState.DRAINING, WorkerState.NOT_LIVE);
    registry.heard(beat("w1", true, false, false, List.of()));
    assertThat(transitions).as("the same state again is no transition").hasSize(4);
  }

  @Test
  void threeMissedHeartbeatsMakeAWorkerUnhealthyAndAHeartbeatBringsItBack() {
    registry.heard(beat("w1", true, true, false, List.of("usw_1")));
    clock.advance(Duration.ofMillis(29_999));
    registry.sweep();
    assertThat(state("w1")).as("two misses").isEqualTo(WorkerState.HEALTHY);
    assertThat(registry.stillRuns("w1", "usw_1")).isTrue();
    clock.advance(Duration.ofMillis(1));
    registry.sweep();
    assertThat(state("w1")).isEqualTo(WorkerState.UNHEALTHY);
    assertThat(registry.worker("w1").orElseThrow().stateReason()).contains("no heartbeat for 30000 ms (3 missed)");
    assertThat(registry.mayClaim("w1")).isFalse();
    assertThat(registry.stillRuns("w1", "usw_1")).as("a lost worker's lease is not restored").isFalse();
    registry.sweep();
    assertThat(transitions).hasSize(2);

    registry.heard(beat("w1", true, true, false, List.of()));
    assertThat(state("w1")).isEqualTo(WorkerState.HEALTHY);
    assertThat(transitions.get(2).why()).startsWith("heard from again after being unhealthy");
  }

  @Test
  void theTimeoutAloneAlsoMakesAWorkerUnhealthy() {
    WorkerRegistry patient = new WorkerRegistry(null, 30_000, new HealthConfig(10_000, 15_000, 10), clock);
    patient.heard(beat("w1", true, true, false, List.of()));
    clock.advance(Duration.ofMillis(15_000));
    patient.sweep();
    assertThat(patient.worker("w1").orElseThrow().state()).as("timeout before 10 misses").isEqualTo(WorkerState.UNHEALTHY);
  }

  @Test
  void aWorkerWhoseClusterMemberLeftIsGoneAtOnce() {
    registry.heard(beat("w1", true, true, false, List.of("usw_1")));
    registry.heard(beat("w2", true, true, false, List.of()));
    registry.memberLeft("node-other");
    assertThat(transitions).hasSize(2);
    registry.memberLeft("node-w1");
    assertThat(state("w1")).isEqualTo(WorkerState.GONE);
    assertThat(state("w2")).isEqualTo(WorkerState.HEALTHY);
    assertThat(transitions.get(2).from()).isEqualTo(WorkerState.HEALTHY);
    registry.memberLeft("node-w1");
    clock.advance(Duration.ofMinutes(5));
    registry.sweep();
    assertThat(transitions).as("w1 stays gone; the silent w2 turns unhealthy").extracting(t -> t.worker().state())
        .containsExactly(WorkerState.HEALTHY, WorkerState.HEALTHY, WorkerState.GONE, WorkerState.UNHEALTHY);
    assertThat(registry.liveCount()).isZero();
  }

  @Test
  void longLostWorkersAreForgotten() {
    registry.heard(beat("w1", true, true, false, List.of()));
    registry.memberLeft("node-w1");
    clock.advance(Duration.ofMillis(WorkerRegistry.FORGET_AFTER_TIMEOUTS * 30_000L + 1));
    registry.sweep();
    assertThat(registry.worker("w1")).isEmpty();
  }
}
