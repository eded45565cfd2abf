package dev.genmesh.simulator;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.simulator.impl.SimulationRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the real autoscaling policy against a discrete-event model of a region and, for
 * comparison, the static fleet, a reactive KEDA baseline and a clairvoyant baseline. A simulated
 * day takes seconds. The baselines are tuned here: the clairvoyant's headroom per scenario (it
 * knows the day), KEDA's listLength once on the normal day (a user tunes on the usual day, not on
 * the one to come).
 */
public final class Simulator {
  /** Every tier within its wait target for at least this share of its requests: the simulator's goal. */
  public static final double TARGET_SHARE = 0.99;
  /** The listLength values the KEDA sweep tries. */
  public static final List<Double> KEDA_LIST_LENGTHS = List.of(1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0);
  /** The clairvoyant's headroom is searched in [0, this], on a grid of 0.25 refined by bisection. */
  public static final double MAX_HEADROOM = 3.0;
  private static final double HEADROOM_GRID = 0.25;
  private static final int REFINE_STEPS = 2;

  private final GenmeshConfig config;
  private final SimulationSettings settings;
  private Double kedaListLength;
  private Double clairvoyantHeadroom;
  private final List<RunResult> kedaSweep = new ArrayList<>();

  public Simulator(GenmeshConfig config, SimulationSettings settings) {
    this.config = config;
    this.settings = settings;
  }

  /** Fixes the KEDA baseline's listLength instead of sweeping for it. */
  public Simulator withKedaListLength(double listLength) {
    this.kedaListLength = listLength;
    return this;
  }

  /** Fixes the clairvoyant baseline's headroom instead of searching for it. */
  public Simulator withClairvoyantHeadroom(double headroom) {
    this.clairvoyantHeadroom = headroom;
    return this;
  }

  public RunResult run(Scenario scenario, PolicyKind policy) {
    return switch (policy) {
      case CLAIRVOYANT -> clairvoyantHeadroom != null
          ? run(scenario, policy, clairvoyantHeadroom).withTuning(String.format(Locale.ROOT, "headroom %.2f (given)",
              clairvoyantHeadroom))
          : cheapestClairvoyant(scenario);
      case KEDA -> run(scenario, policy, kedaListLength()).withTuning(String.format(Locale.ROOT, "listLength %s%s",
          number(kedaListLength()), kedaSweep.isEmpty() ? " (given)" : " (best of the sweep on the normal day)"));
      default -> run(scenario, policy, Double.NaN);
    };
  }

  /** One run with the baseline's parameter given (headroom or listLength; ignored by the others). */
  public RunResult run(Scenario scenario, PolicyKind policy, double parameter) {
    return SimulationRun.run(config, settings, scenario, policy, parameter);
  }

  /**
   * The listLength the KEDA baseline runs with: given, or the sweep's best, i.e. the cheapest on the
   * normal day with every tier within target (if none is, the one with the best worst tier).
   */
  public double kedaListLength() {
    if (kedaListLength == null) {
      Scenario normal = Scenario.normal(config.autoscaling().timeOfDay());
      RunResult best = null;
      for (double length : KEDA_LIST_LENGTHS) {
        RunResult run = run(normal, PolicyKind.KEDA, length).withTuning("listLength " + number(length));
        kedaSweep.add(run);
        if (best == null || better(run, best)) {
          best = run;
        }
      }
      kedaListLength = Double.parseDouble(best.tuning().substring("listLength ".length()));
    }
    return kedaListLength;
  }

  /** The KEDA sweep's runs on the normal day (empty when the listLength was given). */
  public List<RunResult> kedaSweep() {
    kedaListLength();
    return List.copyOf(kedaSweep);
  }

  private static boolean better(RunResult run, RunResult best) {
    boolean meets = run.meetsTargets(TARGET_SHARE);
    if (meets != best.meetsTargets(TARGET_SHARE)) {
      return meets;
    }
    return meets ? run.cost() < best.cost() : worstTier(run) > worstTier(best);
  }

  private static double worstTier(RunResult run) {
    return run.tiers().stream().mapToDouble(TierOutcome::shareWithinTarget).min().orElse(1);
  }

  /**
   * The clairvoyant run with the smallest headroom in [0, {@link #MAX_HEADROOM}] with which every
   * tier meets its target: the first of 0, 0.25, 0.5, ... that does, then {@value #REFINE_STEPS}
   * bisection steps below it. When even the largest cannot (the constraints forbid it, e.g. a 10x
   * spike against the region maximum), the smallest whose worst tier is as good as the largest's.
   */
  private RunResult cheapestClairvoyant(Scenario scenario) {
    RunResult widest = run(scenario, PolicyKind.CLAIRVOYANT, MAX_HEADROOM);
    boolean reachable = widest.meetsTargets(TARGET_SHARE);
    double bar = reachable ? TARGET_SHARE : worstTier(widest) - 0.001;
    RunResult found = widest;
    double headroom = 0;
    for (; headroom < MAX_HEADROOM - 1e-9; headroom += HEADROOM_GRID) {
      RunResult run = run(scenario, PolicyKind.CLAIRVOYANT, headroom);
      if (worstTier(run) >= bar) {
        found = run;
        break;
      }
    }
    double low = Math.max(0, headroom - HEADROOM_GRID);
    double high = headroom;
    for (int step = 0; step < REFINE_STEPS && headroom > 0; step++) {
      double mid = (low + high) / 2;
      RunResult run = run(scenario, PolicyKind.CLAIRVOYANT, mid);
      if (worstTier(run) >= bar) {
        high = mid;
        if (run.cost() <= found.cost()) {
          found = run;
          headroom = mid;
        }
      } else {
        low = mid;
      }
    }
    return found.withTuning(String.format(Locale.ROOT, reachable ? "headroom %.2f (smallest meeting every target)"
        : "headroom %.2f (no headroom meets every target here: the smallest whose worst tier is as good as at "
            + MAX_HEADROOM + ")", headroom));
  }

  private static String number(double value) {
    return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
  }

  public GenmeshConfig config() {
    return config;
  }

  public SimulationSettings settings() {
    return settings;
  }
}
