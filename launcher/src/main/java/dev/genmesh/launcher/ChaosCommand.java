package dev.genmesh.launcher;

import dev.genmesh.launcher.chaos.ChaosControl;
import dev.genmesh.launcher.chaos.impl.ChaosHttp;
import dev.genmesh.launcher.chaos.impl.ChaosRunner;
import dev.genmesh.launcher.chaos.impl.Load;
import dev.genmesh.launcher.chaos.impl.MeshUnderTest;
import dev.genmesh.launcher.chaos.impl.Report;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code genmesh chaos <experiment>}: a fault under load, its expected outcome and the invariants checked (docs/chaos.md). */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = "Run a chaos experiment against a running mesh (genmesh up --autoscale --chaos, or a deployment's"
        + " control API): steady load, the fault, the expected outcome and the invariants checked. Exit code 1 when a"
        + " validation fails.")
final class ChaosCommand implements Callable<Integer> {
  @Mixin CommonOptions common;
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "EXPERIMENT", arity = "0..1", description = "worker-termination, network-partition, model-load-failure, storage-latency,"
      + " postgres-failover, redis-failover, queue-pressure, region-outage, a comma-separated list, or all.")
  String experiment;

  @Option(names = "--list", description = "List the experiments with their expected outcome, and those the mesh of"
      + " --data-dir (or --control) cannot run, with the reason (e.g. redis-failover with --region-processes).")
  boolean list;

  @Option(names = "--url", paramLabel = "EDGE", description = "The edge's base URL (default: the one the control API names).")
  String url;

  @Mixin ControlOptions controlOptions;

  @Option(names = "--admin-key", paramLabel = "KEY", description = "An admin key of the edge: one user and key per load"
      + " user is made with it (default: anonymous callers, where the edge allows them).")
  String adminKey;

  @Option(names = "--users", defaultValue = "3", description = "Load users (default: ${DEFAULT-VALUE}).")
  int users;

  @Option(names = "--rate", defaultValue = "0.5", description = "Steady submits per second over all users and tiers"
      + " (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--steps", defaultValue = "10", description = "Denoising steps per request (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--duration", defaultValue = "30", paramLabel = "SECONDS",
      description = "How long the fault is held (default: ${DEFAULT-VALUE}).")
  long durationSeconds;

  @Option(names = "--warm-up", defaultValue = "10", paramLabel = "SECONDS", description = "Load before the fault"
      + " (default: ${DEFAULT-VALUE}).")
  long warmUpSeconds;

  @Option(names = "--drain-timeout", defaultValue = "600", paramLabel = "SECONDS", description = "How long the"
      + " invariant check waits for every acknowledged request to end (default: ${DEFAULT-VALUE}).")
  long drainSeconds;

  @Option(names = "--runs", defaultValue = "1", description = "Runs of each experiment (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the report as JSON here too.")
  Path json;

  @Override
  public Integer call() {
    if (list) {
      return listExperiments();
    }
    if (experiment == null) {
      throw new IllegalArgumentException("name an experiment (or a comma-separated list, or all), or --list");
    }
    List<String> names = "all".equals(experiment) ? List.copyOf(ChaosRunner.EXPERIMENTS.keySet())
        : List.of(experiment.split(","));
    for (String name : names) {
      if (!ChaosRunner.EXPERIMENTS.containsKey(name)) {
        throw new IllegalArgumentException("unknown experiment '" + name + "'; known: "
            + String.join(", ", ChaosRunner.EXPERIMENTS.keySet()) + ", all");
      }
    }
    MeshUnderTest mesh = mesh();
    var settings = new ChaosRunner.Settings(rate, steps, Duration.ofSeconds(warmUpSeconds),
        Duration.ofSeconds(durationSeconds), Duration.ofSeconds(Math.max(5, warmUpSeconds)), Duration.ofSeconds(drainSeconds));
    ChaosRunner runner = new ChaosRunner(mesh, settings);
    JsonArray report = new JsonArray();
    for (String name : names) {
      for (int run = 1; run <= runs; run++) {
        System.out.printf("[chaos] %s, run %d of %d ...%n", name, run, runs);
        report.add(runner.run(name, run));
      }
    }
    Report.print(report, System.out);
    if (json != null) {
      write(json, new JsonObject().put("runs", report).encodePrettily());
    }
    return report.stream().allMatch(r -> ((JsonObject) r).getBoolean("passed")) ? 0 : 1;
  }

  private int listExperiments() {
    java.io.PrintWriter out = spec.commandLine().getOut();
    JsonObject unavailable = controlOptions.api(common.dataDir())
        .map(api -> ChaosRunner.unavailable(new MeshUnderTest(null, List.of(), api))).orElse(null);
    ChaosRunner.EXPERIMENTS.forEach((name, make) -> {
      out.printf("%-20s %s%n", name, make.get().expected());
      if (unavailable != null && unavailable.containsKey(name)) {
        out.printf("%-20s not here: %s%n", "", unavailable.getString(name));
      }
    });
    if (unavailable == null) {
      out.println("(no control API in " + common.dataDir().resolve(ChaosControl.CONTROL_FILE)
          + ": which of them the mesh can run is not known)");
    }
    return 0;
  }

  /** Where the control API is: {@code --control} and its token, else what {@code <data-dir>/chaos/control.json} names. */
  static final class ControlOptions {
    @Option(names = "--control", paramLabel = "URL", description = "The chaos control API (default: from <data-dir>/"
        + ChaosControl.CONTROL_FILE + ").")
    String control;

    @Option(names = "--control-token", paramLabel = "TOKEN", description = "Its bearer token (default: from the same file).")
    String controlToken;

    /** The control API; empty if neither an option nor the data directory names one. */
    java.util.Optional<ChaosHttp> api(Path dataDir) {
      Path file = dataDir.resolve(ChaosControl.CONTROL_FILE);
      if (control == null && Files.exists(file)) {
        JsonObject saved = new JsonObject(read(file));
        return java.util.Optional.of(new ChaosHttp(saved.getString("url"),
            controlToken != null ? controlToken : saved.getString("token")));
      }
      return java.util.Optional.ofNullable(control).map(url -> new ChaosHttp(url, controlToken));
    }
  }

  private MeshUnderTest mesh() {
    ChaosHttp controlApi = controlOptions.api(common.dataDir()).orElse(null);
    Path file = common.dataDir().resolve(ChaosControl.CONTROL_FILE);
    if (url == null) {
      if (controlApi == null) {
        throw new IllegalArgumentException("no --url, and no control API in " + file + " to ask for the edge's");
      }
      url = controlApi.get("/chaos/targets").json().getString("edge");
    }
    ChaosHttp edge = new ChaosHttp(url, null);
    return new MeshUnderTest(edge, adminKey == null ? anonymous() : Load.makeUsers(edge.as(adminKey), users), controlApi);
  }

  private List<String> anonymous() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      keys.add(null);
    }
    return keys;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
