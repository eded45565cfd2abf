package dev.genmesh.launcher.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One OS process a fault test started, with its output in a log file the test can wait on. */
final class ChildProcess {
  private final String name;
  private final Process process;
  private final Path log;

  ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  /** The processes it started, and theirs, running now. */
  List<ProcessHandle> descendants() {
    return process.descendants().toList();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Path log() {
    return log;
  }

  /**
   * Waits for the first output line that matches {@code pattern} and returns its match;
   * fails early, with the end of the log, if the process exits first.
   */
  Matcher awaitLine(Pattern pattern, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String line : lines()) {
        Matcher matcher = pattern.matcher(line);
        if (matcher.find()) {
          return matcher;
        }
      }
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited (code " + process.exitValue() + ") before printing /" + pattern
            + "/; its log ends:\n" + tail(40));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(name + " did not print /" + pattern + "/ within " + timeout.toSeconds()
            + " s; its log ends:\n" + tail(40));
      }
      Sleeps.pause(Duration.ofMillis(200));
    }
  }

  boolean printed(Pattern pattern) {
    return lines().stream().anyMatch(line -> pattern.matcher(line).find());
  }

  /** SIGKILL to this process alone (its children, if any, live on, as after a real kill -9). */
  void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30));
  }

  /** SIGTERM (the shutdown hooks run), then SIGKILL of the whole tree if it has not exited in time. */
  void stop(Duration grace) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!awaitExit(grace)) {
      killTree();
    }
  }

  /** SIGSTOP: the process hangs with its sockets open (a stuck GPU driver, a frozen VM). */
  void pause() {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill -" + name + " " + pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** SIGKILL to the process and everything it started; returns once they are all gone (or 30 s passed). */
  void killTree() {
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroyForcibly();
    descendants.forEach(ProcessHandle::destroyForcibly);
    awaitExit(Duration.ofSeconds(30));
    for (ProcessHandle descendant : descendants) {
      try {
        descendant.onExit().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        System.err.println(name + ": process " + descendant.pid() + " still there after SIGKILL: " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private boolean awaitExit(Duration wait) {
    try {
      return process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  List<String> lines() {
    try {
      return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      return List.of(); // a line half-written in another charset; read again on the next poll
    }
  }

  String tail(int count) {
    List<String> lines = lines();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }
}
