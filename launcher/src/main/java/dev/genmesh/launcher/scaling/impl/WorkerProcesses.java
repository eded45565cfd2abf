package dev.genmesh.launcher.scaling.impl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts {@code genmesh worker} processes for {@code genmesh up --autoscale}: the same Java and
 * class path as this process, {@code dev.genmesh.launcher.Main worker --region R --id ID --data-dir D
 * --bind H --config F --exit-with-parent <this pid>}. The config file ({@link WorkerConfigFile}) is
 * the child's whole configuration, so {@code GENMESH_*} variables are not passed on. Output goes to
 * {@code <data dir>/workers/<id>.log}.
 */
public final class WorkerProcesses {
  static final String MAIN = "dev.genmesh.launcher.Main";
  /** Small machine, native TensorFlow does the work: one GC thread, quick start-up. */
  private static final List<String> WORKER_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final Path dataDir;
  private final String bindHost;
  private final Path configFile;
  private final String region;

  /**
   * @param dataDir the mesh's data directory (the workers share its model cache)
   * @param configFile the workers' configuration ({@link WorkerConfigFile#write})
   */
  public WorkerProcesses(Path dataDir, String bindHost, Path configFile, String region) {
    this.dataDir = dataDir;
    this.bindHost = bindHost;
    this.configFile = configFile;
    this.region = region;
  }

  /** Where the output of worker {@code workerId} goes: {@code <data dir>/workers/<id>.log}. */
  public static Path logOf(Path dataDir, String workerId) {
    return dataDir.resolve("workers").resolve(workerId + ".log");
  }

  /** Starts worker {@code workerId} (blocking: forks a JVM); it joins the region's cluster and warms up on its own. */
  public Process start(String workerId) {
    List<String> command = javaCommand(WORKER_JVM_OPTIONS, List.of("worker", "--region", region, "--id", workerId,
        "--data-dir", dataDir.toString(), "--bind", bindHost, "--config", configFile.toString(),
        "--exit-with-parent", Long.toString(ProcessHandle.current().pid())));
    Path log = logOf(dataDir, workerId);
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Map<String, String> env = builder.environment();
      env.keySet().removeIf(key -> key.startsWith("GENMESH_"));
      env.putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start worker " + workerId + " (" + String.join(" ", command) + ")", e);
    }
  }

  /** {@code java <jvmOptions> <this JVM's forwarded flags> -cp <its class path> dev.genmesh.launcher.Main <args>}. */
  public static List<String> javaCommand(List<String> jvmOptions, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(forwardedJvmOptions());
    command.add("-cp");
    command.add(classPath());
    command.add(MAIN);
    command.addAll(args);
    return command;
  }

  /**
   * The flags of this JVM a worker needs as well: module openings and exports, native access,
   * heap bounds, and the system properties of Hazelcast, logging and networking. Not GC or JIT
   * choices, agents or debuggers (a second debugger on the same port would not start).
   */
  static List<String> forwardedJvmOptions() {
    List<String> out = new ArrayList<>();
    List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if ((arg.equals("--add-opens") || arg.equals("--add-exports")) && i + 1 < args.size()) {
        out.add(arg);
        out.add(args.get(++i));
      } else if (arg.startsWith("--add-opens=") || arg.startsWith("--add-exports=")
          || arg.startsWith("--enable-native-access") || arg.startsWith("-Xmx") || arg.startsWith("-Xss")
          || arg.startsWith("-Dhazelcast.") || arg.startsWith("-Dorg.slf4j.") || arg.startsWith("-Djava.net.")
          || arg.startsWith("-Djava.library.path=") || arg.startsWith("-Dfile.encoding=")) {
        out.add(arg);
      }
    }
    return out;
  }

  /**
   * This JVM's class path. Under {@code ./genmesh} it is the launcher jar (its manifest names
   * {@code lib/}); under Maven Surefire it may be a manifest-only booter jar, and Surefire names
   * the real class path in {@code surefire.test.class.path}.
   */
  static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    String path = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    List<String> absolute = new ArrayList<>();
    for (String entry : path.split(java.io.File.pathSeparator)) {
      if (!entry.isBlank()) {
        absolute.add(Path.of(entry).toAbsolutePath().toString());
      }
    }
    return String.join(java.io.File.pathSeparator, absolute);
  }
}
