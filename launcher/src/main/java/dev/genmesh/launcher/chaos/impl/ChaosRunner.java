package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs one experiment: steady load from several users in every tier, a warm-up, the experiment
 * (fault, expected outcome, heal), a settling time under load, then the invariant check over every
 * request acknowledged during the run. The result is one JSON object (docs/chaos.md, "Report").
 */
public final class ChaosRunner {
  /** Every experiment by name, in the order {@code all} runs them. */
  public static final Map<String, Supplier<Experiment>> EXPERIMENTS = experiments();

  /**
   * @param rate submits per second of the steady load
   * @param steps denoising steps per request
   * @param warmUp load before the fault
   * @param duration how long the fault is held
   * @param settle load after the heal, before the invariant check
   * @param drain how long the invariant check waits for the acknowledged requests to end
   */
  public record Settings(double rate, int steps, Duration warmUp, Duration duration, Duration settle, Duration drain) {}

  private final MeshUnderTest mesh;
  private final Settings settings;

  public ChaosRunner(MeshUnderTest mesh, Settings settings) {
    this.mesh = mesh;
    this.settings = settings;
  }

  private static Map<String, Supplier<Experiment>> experiments() {
    Map<String, Supplier<Experiment>> all = new LinkedHashMap<>();
    List.<Supplier<Experiment>>of(WorkerTermination::new, NetworkPartition::new, ModelLoadFailure::new, StorageLatency::new,
            PostgresFailover::new, RedisFailover::new, QueuePressure::new, RegionOutage::new)
        .forEach(make -> all.put(make.get().name(), make));
    return all;
  }

  /** Runs {@code name} once ({@code run} numbers it in the report). */
  public JsonObject run(String name, int run) {
    Experiment experiment = EXPERIMENTS.get(name).get();
    Instant started = Instant.now();
    String unavailable = unavailable(mesh).getString(name);
    if (unavailable != null) { // the control API says this mesh cannot run it: no load, one failed check saying why
      return new JsonObject().put("experiment", name).put("run", run).put("passed", false)
          .put("expected", experiment.expected()).put("started_at", started.toString()).put("elapsed_s", 0.0)
          .put("checks", new io.vertx.core.json.JsonArray().add(
              new Experiment.Check("the experiment can run against this mesh", false, unavailable).json()))
          .put("measures", new JsonObject());
    }
    Experiment.Run context;
    try (Load load = new Load(mesh, settings.rate(), settings.steps())) {
      context = new Experiment.Run(mesh, load, settings.duration());
      context.hold(settings.warmUp());
      try {
        experiment.run(context);
      } catch (RuntimeException e) {
        context.check("the experiment ran", false, e.getMessage());
      }
      context.hold(settings.settle());
      load.close();
      Ledger.Findings findings = invariants(context, load);
      experiment.verify(context, findings);
    }
    boolean passed = context.checks().stream().allMatch(Experiment.Check::passed);
    return new JsonObject().put("experiment", name).put("run", run).put("passed", passed)
        .put("expected", experiment.expected()).put("started_at", started.toString())
        .put("elapsed_s", Duration.between(started, Instant.now()).toMillis() / 1000.0)
        .put("checks", context.checksJson()).put("measures", new JsonObject(new LinkedHashMap<>(context.measures())));
  }

  /**
   * Experiment → why the mesh cannot run it, as its control API says ({@code unavailable} of {@code GET /chaos/targets},
   * e.g. {@code redis-failover} where each region has its own Redis); empty without a control API.
   */
  public static JsonObject unavailable(MeshUnderTest mesh) {
    return mesh.controllable() ? mesh.targets().getJsonObject("unavailable", new JsonObject()) : new JsonObject();
  }

  private Ledger.Findings invariants(Experiment.Run run, Load load) {
    Ledger.Findings findings = new Ledger(mesh).check(load.submissions(), settings.drain());
    long acknowledged = load.submissions().stream().filter(Load.Submission::acknowledged).count();
    long[] latencies = findings.latenciesMs(null);
    run.measure("submitted", load.submissions().size());
    run.measure("acknowledged", acknowledged);
    run.measure("completed", findings.count("completed"));
    run.measure("refused_5xx_or_none", load.submissions().stream().filter(s -> s.status() == 0 || s.status() >= 500).count());
    run.measure("latency_p50_ms", Ledger.percentile(latencies, 50));
    run.measure("latency_p95_ms", Ledger.percentile(latencies, 95));
    run.check("I1: nothing acknowledged lost", findings.lost().isEmpty(), findings.lost().isEmpty()
        ? acknowledged + " acknowledged, all terminal" : findings.lost().size() + " not terminal after " + settings.drain().toSeconds() + " s: "
        + findings.lost().subList(0, Math.min(5, findings.lost().size())));
    run.check("I3 and retries: completed once, images served, attempts bounded", findings.violations().isEmpty(),
        findings.violations().isEmpty() ? "held for " + findings.finals().size() + " requests"
            : findings.violations().subList(0, Math.min(5, findings.violations().size())).toString());
    run.check("no acknowledged request failed", findings.count("failed") == 0, findings.count("failed") + " failed");
    return findings;
  }
}
