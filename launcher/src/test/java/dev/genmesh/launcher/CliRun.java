package dev.genmesh.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One {@code genmesh} command run in the test JVM: its exit status and what it printed (out, err). */
public record CliRun(int exit, String out, String err) {

  /** Runs {@code genmesh args...}; a failure prints {@code genmesh: message} and exits 1, as {@link Main} does. */
  public static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new Main()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("genmesh: " + e.getMessage());
          return 1;
        })
        .execute(args);
    return new CliRun(exit, out.toString(), err.toString());
  }
}
