package dev.genmesh.autoscaler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.scaling.ScalingDecision;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every trigger of the design numbers (docs/architecture.md) with its window, on the real policy and an injected clock. */
class ScalingTriggersTest {

  static Stream<Arguments> scaleUpTriggers() {
    return Stream.of(
        Arguments.of("turbo_depth", 30, (Consumer<PolicyHarness>) h -> h.queue("sdxl", Tier.TURBO, 11, 2_000, 0)),
        Arguments.of("fast_depth", 60, (Consumer<PolicyHarness>) h -> h.queue("sdxl", Tier.FAST, 51, 5_000, 0)),
        Arguments.of("relax_depth", 120, (Consumer<PolicyHarness>) h -> h.queue("sdxl", Tier.RELAX, 501, 60_000, 0)),
        Arguments.of("fast_wait", 60, (Consumer<PolicyHarness>) h -> h.queue("sdxl", Tier.FAST, 5, 16_000, 0)),
        Arguments.of("relax_wait", 120, (Consumer<PolicyHarness>) h -> h.queue("sdxl", Tier.RELAX, 5, 301_000, 0)));
  }

  @ParameterizedTest(name = "{0} fires after {1} s, not before")
  @MethodSource("scaleUpTriggers")
  void scaleUpTriggerFiresOnlyOnceItsConditionHeldForItsWindow(String trigger, int windowSeconds,
      Consumer<PolicyHarness> condition) {
    PolicyHarness h = new PolicyHarness().settled();
    int before = h.fleet.get("L4");
    condition.accept(h);

    // Evaluations at 0, 10, ... window-10 s: the condition has not held for the window yet.
    assertThat(h.run(Duration.ofSeconds(windowSeconds))).isEmpty();
    List<ScalingDecision> made = h.tick();

    assertThat(made).hasSize(1);
    ScalingDecision decision = made.get(0);
    assertThat(decision.pool()).isEqualTo("L4");
    assertThat(decision.reason()).isEqualTo(trigger);
    assertThat(decision.driver()).isEqualTo(ScalingDecision.DRIVER_TRIGGER);
    assertThat(decision.from()).isEqualTo(before);
    assertThat(decision.to()).isEqualTo(before + 5);
    assertThat(decision.heldMs()).isEqualTo(windowSeconds * 1000L);
    assertThat(decision.value()).isGreaterThan(decision.threshold());
    assertThat(decision.signals()).containsKeys("depth.turbo", "wait_ms.fast", "gpu_utilisation", "predicted_load");
    assertThat(decision.warmModels()).containsExactly(java.util.Map.entry("sdxl", 5));
  }

  @Test
  void predictedHighScalesUpAtOnceTowardsTheDesiredSizeAndNamesTheScheduleOrTheForecast() {
    PolicyHarness h = new PolicyHarness().settled();
    h.forecast.qps = 40;

    List<ScalingDecision> made = h.tick();

    ScalingDecision l4 = made.stream().filter(d -> d.pool().equals("L4")).findFirst().orElseThrow();
    assertThat(l4.reason()).isEqualTo("predicted_high");
    assertThat(l4.driver()).isEqualTo(ScalingDecision.DRIVER_SCHEDULE);
    assertThat(l4.signal()).isEqualTo("predicted_load");
    assertThat(l4.value()).isGreaterThan(0.8);
    assertThat(l4.forecast().source()).isEqualTo("schedule");
    assertThat(l4.forecast().regionQps()).isEqualTo(40.0);
    assertThat(l4.to() - l4.from()).isEqualTo(5);

    // The next step waits for the up cooldown (120 s), then comes from the learned forecast.
    h.forecast.source = TrafficForecast.SOURCE_LEARNED;
    assertThat(h.run(Duration.ofSeconds(110))).noneMatch(d -> d.pool().equals("L4"));
    ScalingDecision next = h.tick().stream().filter(d -> d.pool().equals("L4")).findFirst().orElseThrow();
    assertThat(next.reason()).isEqualTo("predicted_high");
    assertThat(next.driver()).isEqualTo(ScalingDecision.DRIVER_FORECAST);
  }

  @Test
  void aPredictionBelowWhatArrivesNowIsNotCreditedToTheForecast() {
    PolicyHarness h = new PolicyHarness().settled();
    h.forecast.qps = 5;
    h.queue("sdxl", Tier.FAST, 0, 0, 30);

    // (The reservations move to L4 first: all demand is sdxl now; then the prediction adds a step.)
    ScalingDecision l4 = h.tick().stream().filter(d -> d.pool().equals("L4") && d.reason().equals("predicted_high"))
        .findFirst().orElseThrow();

    assertThat(l4.driver()).isEqualTo(ScalingDecision.DRIVER_TRIGGER);
    assertThat(l4.forecast().observedQps()).isEqualTo(30.0);
  }

  static Stream<Arguments> scaleDownTriggers() {
    // L4 starts at 30 workers. Each case makes exactly one scale-down condition true.
    double qpsForLoad06 = 0.6 * 30 / (0.6 * 1.0 / 0.85);
    double qpsForLoad045 = 0.45 * 30 / (0.6 * 1.0 / 0.85);
    return Stream.of(
        Arguments.of("queues_low", 600, qpsForLoad06, 0.5, 0),
        Arguments.of("gpu_idle", 600, qpsForLoad06, 0.2, 25),
        Arguments.of("predicted_low", 0, qpsForLoad045, 0.5, 25));
  }

  @ParameterizedTest(name = "{0} scales down by 3 after {1} s")
  @MethodSource("scaleDownTriggers")
  void scaleDownTriggerFiresAfterItsWindowAndStepsDownByThree(String trigger, int windowSeconds, double qps,
      double utilisation, int relaxDepth) {
    PolicyHarness h = new PolicyHarness();
    h.fleet.put("L4", 30);
    h.forecast.qps = qps;
    h.utilisation("L4", utilisation).queue("sdxl", Tier.RELAX, relaxDepth, 1_000, 0);

    List<ScalingDecision> early = h.run(Duration.ofSeconds(windowSeconds));
    List<ScalingDecision> made = h.tick();

    assertThat(early).noneMatch(d -> d.pool().equals("L4"));
    ScalingDecision l4 = made.stream().filter(d -> d.pool().equals("L4")).findFirst().orElseThrow();
    assertThat(l4.reason()).isEqualTo(trigger);
    assertThat(l4.from()).isEqualTo(30);
    assertThat(l4.to()).isEqualTo(27);
    assertThat(l4.heldMs()).isEqualTo(windowSeconds * 1000L);
    assertThat(l4.drainModels()).isEmpty(); // the fleet reports no loaded models here
  }

  @Test
  void scaleDownsAreSpacedByTheDownCooldownAndStopAtTheDesiredSize() {
    PolicyHarness h = new PolicyHarness();
    h.fleet.put("L4", 40);
    h.forecast.qps = 0.45 * 30 / (0.6 * 1.0 / 0.85); // desired L4 about 19
    h.queue("sdxl", Tier.RELAX, 25, 1_000, 0);

    List<ScalingDecision> downs = h.run(Duration.ofHours(2)).stream().filter(d -> d.pool().equals("L4")).toList();

    assertThat(downs).isNotEmpty().allSatisfy(d -> assertThat(d.from() - d.to()).isBetween(1, 3));
    for (int i = 1; i < downs.size(); i++) {
      assertThat(Duration.between(downs.get(i - 1).time(), downs.get(i).time())).isGreaterThanOrEqualTo(Duration.ofMinutes(5));
    }
    int desired = downs.get(downs.size() - 1).signals().get("desired").intValue();
    assertThat(h.fleet.get("L4")).isGreaterThanOrEqualTo(desired);
    // Stopped because predicted_low no longer holds: the fleet sits inside the 0.5-0.8 band.
    assertThat(downs.get(downs.size() - 1).to()).isLessThan(30);
  }

  @Test
  void noScaleDownWhileAScaleUpConditionHoldsEvenBeforeItsWindowEnds() {
    PolicyHarness h = new PolicyHarness();
    h.fleet.put("L4", 30);
    h.queue("sdxl", Tier.TURBO, 11, 1_000, 0); // turbo_depth armed, fires at 30 s; predicted_low holds meanwhile

    assertThat(h.run(Duration.ofSeconds(30))).noneMatch(d -> d.pool().equals("L4"));
    assertThat(h.tick()).anySatisfy(d -> {
      assertThat(d.pool()).isEqualTo("L4");
      assertThat(d.reason()).isEqualTo("turbo_depth");
    });
  }

  @Test
  void upSignalThatStaysHighScalesByFiveEveryCooldown() {
    PolicyHarness h = new PolicyHarness().settled();
    int start = h.fleet.get("L4");
    h.queue("sdxl", Tier.TURBO, 100, 3_000, 0);

    List<ScalingDecision> ups = h.run(Duration.ofMinutes(10)).stream().filter(d -> d.pool().equals("L4")).toList();

    // At 30 s (window), then every 120 s: 30, 150, 270, 390, 510.
    assertThat(ups).hasSize(5).allSatisfy(d -> {
      assertThat(d.to() - d.from()).isEqualTo(5);
      assertThat(d.reason()).isEqualTo("turbo_depth");
    });
    assertThat(Duration.between(PolicyHarness.START, ups.get(0).time())).isEqualTo(Duration.ofSeconds(40)); // after settle's tick
    for (int i = 1; i < ups.size(); i++) {
      assertThat(Duration.between(ups.get(i - 1).time(), ups.get(i).time())).isEqualTo(Duration.ofSeconds(120));
    }
    assertThat(h.fleet.get("L4")).isEqualTo(start + 25);
  }
}
