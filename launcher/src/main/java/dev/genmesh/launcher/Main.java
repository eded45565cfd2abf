package dev.genmesh.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code genmesh} command. */
@Command(
    name = "genmesh",
    mixinStandardHelpOptions = true,
    version = "genmesh 0.1.0",
    description = "Serves text-to-image generation across regions.",
    subcommands = {UpCommand.class, RoleCommands.Edge.class, RoleCommands.Region.class, RoleCommands.Worker.class,
        RoleCommands.Safety.class, BuildModelCommand.class, ModelCommands.class, SimulateCommand.class,
        PlanCommand.class,
        AccountCommands.Users.class, AccountCommands.Keys.class, BackupCommands.Backup.class, BackupCommands.Restore.class,
        dev.genmesh.launcher.generate.GenerateCommand.class, ChaosCommand.class,
        RegionCommands.Kill.class, RegionCommands.Start.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    // Before anything logs: slf4j-simple's format plus trace ids, or JSON lines (GENMESH_LOG_FORMAT=json).
    System.setProperty("slf4j.provider", dev.genmesh.launcher.logging.TraceLogProvider.class.getName());
    System.setProperty("slf4j.internal.verbosity", "WARN"); // no "attempting to load provider" line at each start
    System.setProperty("hazelcast.logging.type", "slf4j");
    System.setProperty("hazelcast.phone.home.enabled", "false");
    int code = new CommandLine(new Main()).setExecutionExceptionHandler(Main::reportFailure).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  private static int reportFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    cmd.getErr().println("genmesh: " + e.getMessage());
    return 1;
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
