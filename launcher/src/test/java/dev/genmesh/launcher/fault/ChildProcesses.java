package dev.genmesh.launcher.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts the OS processes of a fault test and makes sure none outlives it: after each test
 * (passed or failed) every process still running is killed with its children, and a JVM
 * shutdown hook does the same if the test JVM is stopped mid-test. Output goes to
 * {@code target/fault-logs/<test class>/<test>/<name>.log}; a failed test prints the end of
 * each log.
 *
 * <p>{@link #perClass()} (in a static field) keeps the processes for the whole test class instead,
 * for tests that play phases on one expensive mesh: they are killed after the last test, and
 * their output goes to {@code target/fault-logs/<test class>/all-tests/}.
 */
final class ChildProcesses implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
  private static final Set<ChildProcess> EVERY_CHILD = ConcurrentHashMap.newKeySet();
  private static final Set<Runnable> PENDING_CLEANUPS = ConcurrentHashMap.newKeySet();
  private static final Path LOG_ROOT = Path.of(System.getProperty("basedir", "."), "target", "fault-logs");

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      EVERY_CHILD.forEach(ChildProcess::killTree);
      PENDING_CLEANUPS.forEach(ChildProcesses::runQuietly);
    }, "fault-children"));
  }

  private final List<ChildProcess> started = new CopyOnWriteArrayList<>();
  private final List<Runnable> cleanups = new CopyOnWriteArrayList<>();
  private final boolean perClass;
  private Path logDir = LOG_ROOT.resolve("unnamed");

  /** Processes kept for one test (the usual: an instance field). */
  ChildProcesses() {
    this(false);
  }

  private ChildProcesses(boolean perClass) {
    this.perClass = perClass;
  }

  /** Processes kept until the test class ends: register it in a static field. */
  static ChildProcesses perClass() {
    return new ChildProcesses(true);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    if (perClass) {
      useLogDir(LOG_ROOT.resolve(context.getRequiredTestClass().getSimpleName()).resolve("all-tests"));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (perClass) {
      stopAll(context);
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    if (!perClass) {
      useLogDir(LOG_ROOT.resolve(context.getRequiredTestClass().getSimpleName())
          .resolve(context.getRequiredTestMethod().getName()));
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (perClass) {
      printTailsIfFailed(context); // the processes live on for the next test
    } else {
      stopAll(context);
    }
  }

  private void useLogDir(Path dir) throws IOException {
    logDir = dir;
    if (Files.isDirectory(logDir)) {
      try (var old = Files.list(logDir)) {
        for (Path file : old.toList()) {
          Files.deleteIfExists(file);
        }
      }
    }
    Files.createDirectories(logDir);
  }

  private void printTailsIfFailed(ExtensionContext context) {
    if (context.getExecutionException().isPresent()) {
      started.forEach(child -> System.err.printf("%n----- %s, end of %s -----%n%s%n", child, child.log(), child.tail(60)));
    }
  }

  private void stopAll(ExtensionContext context) {
    printTailsIfFailed(context);
    List<ChildProcess> reversed = new ArrayList<>(started);
    Collections.reverse(reversed);
    reversed.forEach(child -> {
      child.killTree();
      EVERY_CHILD.remove(child);
    });
    started.clear();
    List<Runnable> toRun = new ArrayList<>(cleanups);
    Collections.reverse(toRun);
    cleanups.clear();
    toRun.forEach(cleanup -> {
      runQuietly(cleanup);
      PENDING_CLEANUPS.remove(cleanup);
    });
  }

  /**
   * Runs {@code cleanup} after the test, once its processes are gone (last registered, first
   * run); or when the JVM exits, if the test never finishes.
   */
  void onCleanup(Runnable cleanup) {
    cleanups.add(cleanup);
    PENDING_CLEANUPS.add(cleanup);
  }

  private static void runQuietly(Runnable cleanup) {
    try {
      cleanup.run();
    } catch (RuntimeException e) {
      System.err.println("fault test cleanup failed: " + e);
    }
  }

  /** The line {@code genmesh up} prints with the edge's URL once the mesh is ready. */
  static final java.util.regex.Pattern UP_EDGE_URL = java.util.regex.Pattern.compile("web UI\\s+(http://localhost:\\d+)/");

  /**
   * A data directory for {@code genmesh up} children: the bundled models copied in, and the stores
   * a killed mesh leaves running stopped at cleanup (they are not this JVM's descendants for long).
   */
  Path meshData(Path dir) throws IOException {
    Path data = dir.resolve("data");
    onCleanup(() -> dev.genmesh.embedded.StaleStoreProcesses.stop(data));
    ModelCache.copyInto(data);
    return data;
  }

  /** {@code genmesh up <options> --data-dir <data> --random-ports --no-fsync --regions us-west --config <config>}. */
  ChildProcess genmeshUp(String name, Path data, Path config, String... options) {
    return genmeshUp(name, data, config, false, options);
  }

  /** @param fsync the embedded stores fsync, as {@code genmesh up} does by default (else {@code --no-fsync}) */
  ChildProcess genmeshUp(String name, Path data, Path config, boolean fsync, String... options) {
    List<String> args = new ArrayList<>(List.of("up"));
    args.addAll(List.of(options));
    args.addAll(List.of("--data-dir", data.toString(), "--random-ports", "--regions", "us-west",
        "--config", config.toString()));
    if (!fsync) {
      args.add("--no-fsync");
    }
    return java(name, List.of("-Xmx768m", "-XX:+UseSerialGC"), "dev.genmesh.launcher.Main", args);
  }

  /**
   * {@code genmesh up --autoscale --chaos} with the full matrix's config ({@code bench/chaos/chaos.yaml}: fast
   * heartbeats and leases), one region, random ports; returns its data directory once the warm pool's two worker
   * processes serve (docs/chaos.md).
   */
  UpMesh chaosReadyMesh(Path dir, java.time.Duration timeout) throws IOException {
    Path data = meshData(dir);
    Path config = Path.of(System.getProperty("basedir", "."), "..", "bench", "chaos", "chaos.yaml").normalize();
    ChildProcess up = genmeshUp("up", data, config, "--autoscale", "--chaos");
    up.awaitLine(UP_EDGE_URL, timeout);
    awaitWorkerServing(data, "usw-worker-as-1", timeout);
    awaitWorkerServing(data, "usw-worker-as-2", timeout);
    return new UpMesh(up, data);
  }

  /** A {@code genmesh up} process and its data directory. */
  record UpMesh(ChildProcess up, Path data) {}

  /**
   * {@code genmesh chaos <experiments>} against a {@link #chaosReadyMesh}, briefly as CI runs it (0.5 submits/s,
   * 10 steps, warm-up 5 s, faults held 10 s, 120 s to drain); the JSON report goes to {@code report}.
   */
  static dev.genmesh.launcher.CliRun briefChaos(Path data, String experiments, Path report) {
    return dev.genmesh.launcher.CliRun.of("chaos", experiments, "--data-dir", data.toString(), "--rate", "0.5",
        "--steps", "10", "--warm-up", "5", "--duration", "10", "--drain-timeout", "120", "--json", report.toString());
  }

  /** Waits until the worker process {@code workerId} of a {@code genmesh up --autoscale} on {@code data} serves us-west. */
  static void awaitWorkerServing(Path data, String workerId, java.time.Duration timeout) {
    Path workerLog = data.resolve("workers").resolve(workerId + ".log");
    Sleeps.until("worker process " + workerId + " serving", timeout, () -> {
      try {
        return Files.exists(workerLog) && Files.readString(workerLog).contains("serving region us-west") ? true : null;
      } catch (IOException e) {
        return null;
      }
    });
  }

  /** {@code java <jvmOptions> -cp <this JVM's class path> <mainClass> <args>}. */
  ChildProcess java(String name, List<String> jvmOptions, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classPath());
    command.add(mainClass);
    command.addAll(args);
    return start(name, command);
  }

  ChildProcess start(String name, List<String> command) {
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(key -> key.startsWith("GENMESH_")); // the test's config file is the whole truth
    env.put("TF_CPP_MIN_LOG_LEVEL", "2");
    try {
      ChildProcess child = new ChildProcess(name, builder.start(), log);
      started.add(child);
      EVERY_CHILD.add(child);
      return child;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
  }

  Path logDir() {
    return logDir;
  }

  /** Surefire may hand the test JVM a manifest-only jar; it names the real class path separately. */
  static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
  }
}
