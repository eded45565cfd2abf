package dev.genmesh.launcher;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.simulator.PolicyKind;
import dev.genmesh.simulator.RunResult;
import dev.genmesh.simulator.Scenario;
import dev.genmesh.simulator.SimulationReport;
import dev.genmesh.simulator.SimulationSettings;
import dev.genmesh.simulator.Simulator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code genmesh simulate}: the real autoscaling policy against a discrete-event model of a region,
 * compared with a clairvoyant baseline, a reactive KEDA baseline and the static fleet. See
 * docs/autoscaling.md.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = "Simulate a region's day under the autoscaling policy, a clairvoyant baseline, a KEDA baseline and"
        + " the static fleet; write CSV timelines, decision logs, SVG charts and a summary table.")
final class SimulateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--scenario", defaultValue = "all", paramLabel = "NAME",
      description = "normal, spike, ramp, wrong-forecast, a comma-separated list, or all (default: ${DEFAULT-VALUE}).")
  String scenario;

  @Option(names = "--policy", defaultValue = "all", paramLabel = "NAME",
      description = "design, clairvoyant, keda, static, a comma-separated list, or all (default: ${DEFAULT-VALUE}).")
  String policy;

  @Option(names = "--keda-list-length", paramLabel = "N",
      description = "KEDA baseline's listLength (default: the best of a sweep on the normal day).")
  Double kedaListLength;

  @Option(names = "--clairvoyant-headroom", paramLabel = "B",
      description = "Clairvoyant baseline's square-root staffing headroom (default: searched per scenario).")
  Double clairvoyantHeadroom;

  @Option(names = "--out", defaultValue = "simulation", paramLabel = "DIR", description = "Where the report goes (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML merged over the defaults (the autoscaling section, GPUs, routing).")
  Path configFile;

  @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--service-time-factor", defaultValue = "1.0", paramLabel = "F",
      description = "Multiply every estimated generation time (default: ${DEFAULT-VALUE}).")
  double serviceTimeFactor;

  @Option(names = "--service-times", paramLabel = "CSV",
      description = "Measured generation times replacing the estimates: lines kind,gpu,seconds (docs/autoscaling.md).")
  Path serviceTimesFile;

  @Option(names = "--cold-start-s", paramLabel = "S", description = "Worker start to ready, seconds (default: autoscaling.cold_start_ms).")
  Double coldStartSeconds;

  @Option(names = "--spike-at", defaultValue = "15", paramLabel = "HOUR", description = "Spike start, UTC hour (default: ${DEFAULT-VALUE}).")
  double spikeAt;

  @Option(names = "--spike-minutes", defaultValue = "10", description = "Spike length (default: ${DEFAULT-VALUE}).")
  double spikeMinutes;

  @Option(names = "--spike-factor", defaultValue = "10", description = "Spike traffic multiple (default: ${DEFAULT-VALUE}).")
  double spikeFactor;

  @Override
  public Integer call() {
    PrintWriter console = spec.commandLine().getOut();
    GenmeshConfig config = ConfigLoader.load(configFile, System.getenv());
    SimulationSettings settings = SimulationSettings.defaults(config).withSeed(seed).withServiceTimeFactor(serviceTimeFactor);
    if (serviceTimesFile != null) {
      try {
        settings = settings.withServiceTimes(settings.serviceTimes().withMeasured(java.nio.file.Files.readAllLines(serviceTimesFile)));
      } catch (java.io.IOException e) {
        throw new ParameterException(spec.commandLine(), "--service-times: cannot read " + serviceTimesFile + " (" + e.getMessage() + ")");
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--service-times " + serviceTimesFile + ": " + e.getMessage());
      }
    }
    if (coldStartSeconds != null) {
      settings = settings.withColdStartMs(Math.round(coldStartSeconds * 1000));
    }
    Map<String, Double> schedule = config.autoscaling().timeOfDay();
    List<Scenario> scenarios = new ArrayList<>();
    for (String name : scenario.equals("all") ? Scenario.NAMES : List.of(scenario.split(","))) {
      if (!Scenario.NAMES.contains(name)) {
        throw new ParameterException(spec.commandLine(), "--scenario: unknown '" + name + "' (known: " + Scenario.NAMES + ", all)");
      }
      scenarios.add(name.equals("spike") ? Scenario.spike(schedule, spikeAt, spikeMinutes, spikeFactor)
          : Scenario.named(name, schedule));
    }
    List<PolicyKind> policies = new ArrayList<>();
    List<String> wanted = List.of(policy.split(","));
    for (PolicyKind kind : PolicyKind.values()) {
      if (policy.equals("all") || wanted.contains(kind.wireName())) {
        policies.add(kind);
      }
    }
    if (policies.isEmpty()) {
      throw new ParameterException(spec.commandLine(),
          "--policy: unknown '" + policy + "' (known: design, clairvoyant, keda, static, all)");
    }
    if (kedaListLength != null && !(kedaListLength > 0)) {
      throw new ParameterException(spec.commandLine(), "--keda-list-length must be positive");
    }
    if (clairvoyantHeadroom != null && !(clairvoyantHeadroom >= 0)) {
      throw new ParameterException(spec.commandLine(), "--clairvoyant-headroom must be 0 or more");
    }

    Simulator simulator = new Simulator(config, settings);
    if (kedaListLength != null) {
      simulator.withKedaListLength(kedaListLength);
    }
    if (clairvoyantHeadroom != null) {
      simulator.withClairvoyantHeadroom(clairvoyantHeadroom);
    }
    String sweep = "";
    if (policies.contains(PolicyKind.KEDA) && kedaListLength == null) {
      console.printf("KEDA listLength sweep on the normal day (%s)...%n", Simulator.KEDA_LIST_LENGTHS);
      console.flush();
      sweep = SimulationReport.sweepTable(simulator.kedaSweep());
      console.print(sweep);
      console.printf(Locale.ROOT, "best: listLength %s%n", simulator.kedaListLength());
    }
    List<RunResult> results = new ArrayList<>();
    for (Scenario day : scenarios) {
      console.printf("%s: %s%n", day.name(), day.description());
      for (PolicyKind kind : policies) {
        RunResult result = simulator.run(day, kind);
        results.add(result);
        console.printf(Locale.ROOT, "  %-34s %,9d requests  $%,8.0f  turbo %6.2f %%  fast %6.2f %%  relax %6.2f %%  (%.1f s)%n",
            kind.label(), result.requests(), result.cost(), 100 * result.tier("turbo").shareWithinTarget(),
            100 * result.tier("fast").shareWithinTarget(), 100 * result.tier("relax").shareWithinTarget(),
            result.wallMillis() / 1000.0);
        if (!result.tuning().isEmpty()) {
          console.printf("    %s%n", result.tuning());
        }
        console.flush();
      }
    }
    String header = String.format(Locale.ROOT, "genmesh simulate (seed %d, service-time factor %.2f, cold start %.0f s%s)",
        seed, settings.serviceTimeFactor(), settings.coldStartMs() / 1000.0,
        serviceTimesFile == null ? "" : ", service times " + serviceTimesFile.getFileName());
    String table = SimulationReport.write(out, results, header + (sweep.isEmpty() ? "" : "\n\n" + sweep));
    console.println();
    console.print(table);
    console.println();
    console.println("report: " + out.toAbsolutePath() + " (summary.md, <scenario>.svg, <scenario>-<fleet>.csv, <scenario>-decisions.csv)");
    return 0;
  }
}
