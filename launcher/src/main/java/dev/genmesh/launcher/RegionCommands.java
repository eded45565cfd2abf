package dev.genmesh.launcher;

import dev.genmesh.launcher.chaos.impl.ChaosHttp;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code genmesh region-kill NAME} and {@code genmesh region-start NAME}: a whole region of a running
 * {@code genmesh up --region-processes} taken down (SIGKILL to its node, workers and PostgreSQL) and
 * brought back on its data, through the control API named in {@code <data-dir>/chaos/control.json}.
 */
final class RegionCommands {
  private RegionCommands() {}

  /** What both commands share: the region, where the control API is, and the call. */
  abstract static class RegionCall implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "REGION", description = "The region, e.g. us-west.")
    String region;

    @Mixin ChaosCommand.ControlOptions control;

    /** {@code kill} or {@code start}: the command's name after {@code region-}. */
    private String action() {
      return spec.name().substring("region-".length());
    }

    @Override
    public Integer call() {
      ChaosHttp api = control.api(common.dataDir()).orElseThrow(() ->
          new IllegalArgumentException("no control API: start 'genmesh up --region-processes' with this --data-dir ("
              + common.dataDir() + "), or give --control URL --control-token T"));
      ChaosHttp.Answer answer = api.post("/chaos/regions/" + region + "/" + action(), new JsonObject(),
          dev.genmesh.launcher.chaos.impl.MeshUnderTest.REGION_CALL);
      if (answer.status() != 200) {
        throw new IllegalStateException("could not " + action() + " region " + region + ": " + (answer.status() == 0
            ? "the control API does not answer (" + answer.body() + ")" : answer.json().getString("message", answer.body())));
      }
      spec.commandLine().getOut().println(answer.json().encodePrettily());
      return 0;
    }
  }

  @Command(name = "region-kill", mixinStandardHelpOptions = true, description = "SIGKILL every process of a region of"
      + " 'genmesh up --region-processes' (its node, workers and PostgreSQL); its peer adopts its work.")
  static final class Kill extends RegionCall {}

  @Command(name = "region-start", mixinStandardHelpOptions = true, description = "Start a killed region of"
      + " 'genmesh up --region-processes' again on its data; it reconciles, then fails back.")
  static final class Start extends RegionCall {}
}
