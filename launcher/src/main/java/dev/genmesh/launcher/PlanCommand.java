package dev.genmesh.launcher;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.plan.PlanInputs;
import dev.genmesh.simulator.ServiceTimes;
import dev.genmesh.simulator.plan.CapacityPlan;
import dev.genmesh.simulator.plan.CapacityPlanner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code genmesh plan}: GPUs per type and region, cost per month and per image, and the actions of
 * each milestone of the growth table. See docs/capacity.md.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
    description = "Plan capacity from the growth table (images per day, peak QPS per milestone) and per-GPU service"
        + " times: GPUs per type and region, cost per month and per image, and what to do at each milestone.")
final class PlanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--inputs", paramLabel = "FILE",
      description = "Plan inputs (YAML) over the bundled plan-defaults.yaml, section by section (docs/capacity.md).")
  Path inputsFile;

  @Option(names = "--config", paramLabel = "FILE",
      description = "genmesh config merged over the defaults: GPU prices, routing, pool bounds, region maximum.")
  Path configFile;

  @Option(names = "--json", description = "Print the plan as JSON instead of the table.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter console = spec.commandLine().getOut();
    GenmeshConfig config = ConfigLoader.load(configFile, System.getenv());
    PlanInputs inputs = PlanInputs.load(inputsFile);
    ServiceTimes times = ServiceTimes.estimates();
    String source = "the simulator's estimates (ServiceTimes, docs/autoscaling.md; not measured on a GPU)";
    if (inputs.serviceTimesCsv() != null) {
      try {
        times = times.withMeasured(Files.readAllLines(inputs.serviceTimesCsv()));
      } catch (IOException e) {
        throw new ParameterException(spec.commandLine(),
            "service_times_csv: cannot read " + inputs.serviceTimesCsv() + " (" + e.getMessage() + ")");
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "service_times_csv " + inputs.serviceTimesCsv() + ": "
            + e.getMessage());
      }
      source = "measured, " + inputs.serviceTimesCsv() + " (estimates for the kinds it does not name)";
    }
    CapacityPlan plan = new CapacityPlanner(config, inputs, times, source).plan();
    console.print(json ? plan.toJson().encodePrettily() + "\n" : plan.table());
    console.flush();
    return 0;
  }
}
