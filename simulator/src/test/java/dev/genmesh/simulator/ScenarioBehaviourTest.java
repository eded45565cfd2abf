package dev.genmesh.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.simulator.RunResult.TimelineRow;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * What a user of the region would notice on the days the forecast does not expect, under the real
 * policy at a quarter of the design's traffic (15 QPS peak). Every time here is simulated time
 * (decision times, timeline minutes of the simulator's clock), never the wall clock.
 */
class ScenarioBehaviourTest {
  private static final int FAST = 1;
  private static final int RELAX = 2;
  /** The triggers that react to what the region sees now (queues), as opposed to the forecast. */
  private static final Set<String> QUEUE_TRIGGERS = Set.of("turbo_depth", "fast_depth", "relax_depth", "fast_wait",
      "relax_wait");

  private final GenmeshConfig config = ConfigLoader.defaults();
  private final Simulator simulator = new Simulator(config, SimulationSettings.defaults(config).withPeakQps(15));

  @Test
  void aSpikeIsMetByQueueTriggersTurboStaysWithinTargetAndRelaxGivesMostThenTheFleetShrinksBack() {
    // 10x the usual traffic for 10 minutes from 15:00.
    RunResult spike = simulator.run(Scenario.named("spike", config.autoscaling().timeOfDay()), PolicyKind.DESIGN);
    int before = workersAt(spike, LocalTime.of(14, 59));

    // The queues drive the scale-up within minutes of the spike, not the forecast (it did not see it coming).
    assertThat(spike.decisions()).filteredOn(d -> d.isUp() && QUEUE_TRIGGERS.contains(d.reason())
            && ScalingDecision.DRIVER_TRIGGER.equals(d.driver()))
        .as("queue-triggered scale-ups in the spike's first five minutes")
        .anySatisfy(d -> assertThat(timeOf(d)).isBetween(LocalTime.of(15, 0), LocalTime.of(15, 5)));
    assertThat(workersAt(spike, LocalTime.of(15, 10))).as("workers ten minutes in, from %d before", before)
        .isGreaterThanOrEqualTo(3 * before);

    // Turbo keeps its promise through the spike; relax is the tier that gives most.
    TierOutcome turbo = spike.tier("turbo");
    assertThat(turbo.shareWithinTarget()).as("turbo within its %d ms target", turbo.targetMs()).isGreaterThanOrEqualTo(0.99);
    assertThat(turbo.p99WaitS() * 1000).as("turbo p99 wait (ms)").isLessThan(turbo.targetMs());
    TierOutcome fast = spike.tier("fast");
    TierOutcome relax = spike.tier("relax");
    assertThat(relax.p99WaitS()).as("relax p99 wait against fast's").isGreaterThan(fast.p99WaitS());
    assertThat(relax.maxWaitS()).as("relax's longest wait against fast's").isGreaterThan(fast.maxWaitS());
    double fastCleared = firstMinuteAfter(spike, 15 * 60, row -> row.depth()[FAST] <= 10);
    double relaxCleared = firstMinuteAfter(spike, 15 * 60, row -> row.depth()[RELAX] <= 10);
    assertThat(fastCleared).as("fast's backlog is gone (minute of day) before relax's, at %s", clock(relaxCleared))
        .isLessThan(relaxCleared);

    // Once the backlog is served the workers are given back.
    int peak = spike.timeline().stream().filter(r -> r.minute() >= 15 * 60 && r.minute() < 16 * 60)
        .mapToInt(ScenarioBehaviourTest::workers).max().orElseThrow();
    assertThat(workersAt(spike, LocalTime.of(17, 0))).as("workers at 17:00 against the spike's %d", peak)
        .isLessThanOrEqualTo(peak / 2);
  }

  @Test
  void aRampNobodyForecastIsFollowedByTheObservedLoadAndEveryTierMeetsItsTarget() {
    // From 20 % to 150 % of the peak over the day; the history knows only the usual curve.
    RunResult ramp = simulator.run(Scenario.named("ramp", config.autoscaling().timeOfDay()), PolicyKind.DESIGN);

    assertThat(ramp.tiers()).allSatisfy(tier ->
        assertThat(tier.shareWithinTarget()).as("%s within target", tier.tier()).isGreaterThanOrEqualTo(0.99));
    // In the evening the traffic passes anything the forecast learned: the observed load drives the growth.
    List<ScalingDecision> evening = ramp.decisions().stream()
        .filter(d -> d.isUp() && !timeOf(d).isBefore(LocalTime.of(18, 0))).toList();
    assertThat(evening).as("scale-ups after 18:00").isNotEmpty()
        .allSatisfy(d -> assertThat(d.driver()).as("%s at %s", d.reason(), timeOf(d))
            .isIn(ScalingDecision.DRIVER_TRIGGER, ScalingDecision.DRIVER_CONSTRAINT));
    assertThat(workersAt(ramp, LocalTime.of(23, 30))).as("workers late in the day against the morning's")
        .isGreaterThanOrEqualTo(workersAt(ramp, LocalTime.of(6, 0)) * 3 / 2);
  }

  @Test
  void aDayRunningLaterAndHigherThanForecastIsCaughtUpByTheReactiveTriggers() {
    // The usual curve four hours late and 20 % higher: the forecast expects the rise at 10:00, it comes at 14:00.
    RunResult late = simulator.run(Scenario.named("wrong-forecast", config.autoscaling().timeOfDay()), PolicyKind.DESIGN);

    assertThat(late.tiers()).allSatisfy(tier ->
        assertThat(tier.shareWithinTarget()).as("%s within target", tier.tier()).isGreaterThanOrEqualTo(0.99));
    // When the traffic does rise, what the region observes, not what it forecast, adds the workers.
    assertThat(late.decisions()).filteredOn(d -> d.isUp() && ScalingDecision.DRIVER_TRIGGER.equals(d.driver()))
        .as("reactive scale-ups while the late rise comes in (13:30 to 15:30)")
        .anySatisfy(d -> assertThat(timeOf(d)).isBetween(LocalTime.of(13, 30), LocalTime.of(15, 30)));
    assertThat(workersAt(late, LocalTime.of(15, 0))).as("workers at the real rise against the forecast's 10:00")
        .isGreaterThan(workersAt(late, LocalTime.of(10, 0)));
  }

  private static int workersAt(RunResult run, LocalTime time) {
    double minute = time.toSecondOfDay() / 60.0;
    return run.timeline().stream().filter(row -> row.minute() >= minute).findFirst().map(ScenarioBehaviourTest::workers)
        .orElseThrow();
  }

  private static int workers(TimelineRow row) {
    int sum = 0;
    for (int w : row.workers()) {
      sum += w;
    }
    return sum;
  }

  /** The first sampled minute of the day at or after {@code fromMinute} (plus 5) where {@code done} holds. */
  private static double firstMinuteAfter(RunResult run, double fromMinute, Predicate<TimelineRow> done) {
    return run.timeline().stream().filter(row -> row.minute() >= fromMinute + 5).filter(done).findFirst()
        .map(TimelineRow::minute).orElseThrow(() -> new AssertionError("never cleared after minute " + fromMinute));
  }

  private static String clock(double minute) {
    return LocalTime.ofSecondOfDay((long) (minute * 60) % 86_400).toString();
  }

  private static LocalTime timeOf(ScalingDecision decision) {
    return decision.time().atZone(ZoneOffset.UTC).toLocalTime();
  }
}
