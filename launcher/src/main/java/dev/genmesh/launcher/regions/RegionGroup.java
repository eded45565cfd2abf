package dev.genmesh.launcher.regions;

import dev.genmesh.launcher.scaling.impl.WorkerProcesses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One region of {@code genmesh up --region-processes}: its node as a {@code genmesh region} process,
 * its workers as {@code genmesh worker} processes (started by this JVM, or by the node's own
 * autoscaler with {@code --autoscale}: then they are the node's children), its own PostgreSQL
 * server (started by the embedded stores; after a kill, started again here on its data and port), and its own
 * Redis server and object store ({@link RegionStores}).
 * Every process gets {@code --exit-with-parent}, so none outlives {@code up}.
 */
final class RegionGroup {
  private static final Logger LOG = LoggerFactory.getLogger(RegionGroup.class);
  private static final List<String> NODE_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final Duration STOP_GRACE = Duration.ofSeconds(20);

  /**
   * What a group needs to know of the mesh.
   *
   * @param workers worker processes started here per start; with {@code autoscale}, the node's warm pool instead
   */
  record Setup(Path dataDir, String bindHost, Path configFile, List<String> meshRegions, String code, int workers,
      boolean autoscale, int postgresPort, RegionProcesses.PostgresStarter postgres, RegionStores stores) {}

  private final String region;
  private final Setup setup;
  private final Map<String, Process> workers = new LinkedHashMap<>();
  private Process node;
  private int starts;

  RegionGroup(String region, Setup setup) {
    this.region = region;
    this.setup = setup;
  }

  /** Where the node's output goes: {@code <data dir>/regions/<region>-node.log}. */
  static Path nodeLog(Path dataDir, String region) {
    return dataDir.resolve("regions").resolve(region + "-node.log");
  }

  private Path postgresDir() {
    return setup.dataDir().resolve("postgres-" + region);
  }

  /** Starts what is not running: its stores (after a kill), the node, the workers (blocking: forks JVMs). */
  synchronized JsonObject start() {
    if (running()) {
      throw new IllegalStateException("region " + region + " is running (node pid " + node.pid() + "); kill it first");
    }
    boolean postgresStarted = startPostgresIfDead();
    boolean storesStarted = setup.stores().startIfDead();
    starts++;
    List<String> args = new ArrayList<>(List.of("region", "--name", region, "--config", setup.configFile().toString(),
        "--data-dir", setup.dataDir().toString(), "--bind", setup.bindHost(),
        "--exit-with-parent", Long.toString(ProcessHandle.current().pid()),
        "--mesh-regions", String.join(",", setup.meshRegions())));
    if (setup.autoscale()) {
      args.addAll(List.of("--local-workers", Integer.toString(setup.workers())));
    }
    node = fork(WorkerProcesses.javaCommand(NODE_JVM_OPTIONS, args), nodeLog(setup.dataDir(), region));
    LOG.info("region {}: node process {} started (output in {})", region, node.pid(), nodeLog(setup.dataDir(), region));
    if (!setup.autoscale()) {
      WorkerProcesses starter = new WorkerProcesses(setup.dataDir(), setup.bindHost(), setup.configFile(), region);
      for (int i = 1; i <= setup.workers(); i++) {
        String id = setup.code() + "-worker-" + i;
        workers.put(id, starter.start(id));
      }
    }
    return describe().put("postgres_restarted", postgresStarted).put("stores_restarted", storesStarted)
        .put("start", starts);
  }

  /**
   * SIGKILL to every process of the region at once: the node, its workers, its PostgreSQL and Redis servers; waits
   * until gone, then stops its object store.
   */
  synchronized JsonObject kill() {
    List<ProcessHandle> victims = new ArrayList<>();
    JsonArray killed = new JsonArray();
    if (node != null) {
      node.descendants().forEach(victims::add);
      victims.add(node.toHandle());
    }
    workers.values().forEach(w -> victims.add(w.toHandle()));
    List<ProcessHandle> postgres = postgresProcesses();
    victims.addAll(postgres);
    Optional<ProcessHandle> redis = setup.stores().redisProcess();
    redis.ifPresent(victims::add);
    victims.stream().filter(ProcessHandle::isAlive).forEach(p -> {
      p.destroyForcibly();
      String role = redis.filter(r -> r.pid() == p.pid()).isPresent() ? "redis" : role(p, postgres);
      killed.add(new JsonObject().put("pid", p.pid()).put("role", role));
    });
    victims.forEach(p -> p.onExit().join());
    JsonArray stopped = setup.stores().stopObjects();
    node = null;
    workers.clear();
    LOG.warn("region {}: SIGKILLed {} processes {}", region, killed.size(), killed.encode());
    return new JsonObject().put("region", region).put("killed", killed).put("stopped", stopped);
  }

  private String role(ProcessHandle p, List<ProcessHandle> postgres) {
    if (node != null && p.pid() == node.pid()) {
      return "node";
    }
    return postgres.contains(p) ? "postgres" : "worker";
  }

  synchronized boolean running() {
    return node != null && node.isAlive();
  }

  /** Worker id → pid of the region's worker processes alive now (this JVM's, or the node's autoscaled ones). */
  synchronized Map<String, Long> workerPids() {
    Map<String, Long> pids = new LinkedHashMap<>();
    workers.forEach((id, p) -> {
      if (p.isAlive()) {
        pids.put(id, p.pid());
      }
    });
    if (node != null) {
      node.children().filter(ProcessHandle::isAlive)
          .forEach(child -> workerId(child).ifPresent(id -> pids.put(id, child.pid())));
    }
    return pids;
  }

  /** The {@code --id} of a {@code genmesh worker} process, read from its command line. */
  private static Optional<String> workerId(ProcessHandle process) {
    List<String> args = commandLine(process);
    int id = args.indexOf("--id");
    return id >= 0 && id + 1 < args.size() ? Optional.of(args.get(id + 1)) : Optional.empty();
  }

  /**
   * A process's command line: from {@code /proc} where there is one (the JDK's {@code ProcessHandle.Info} gives
   * none for a command line as long as a Maven test class path), else from the JDK.
   */
  private static List<String> commandLine(ProcessHandle process) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
      return List.of(new String(raw, java.nio.charset.StandardCharsets.UTF_8).split("\0"));
    } catch (IOException | RuntimeException e) {
      return List.of(process.info().arguments().orElse(new String[0]));
    }
  }

  synchronized JsonObject describe() {
    JsonObject workerJson = new JsonObject();
    workerPids().forEach((id, pid) -> workerJson.put(id, pid));
    JsonArray pg = new JsonArray();
    postgresProcesses().stream().limit(1).forEach(p -> pg.add(p.pid()));
    return new JsonObject().put("region", region).put("running", running())
        .put("node_pid", node != null && node.isAlive() ? node.pid() : null).put("workers", workerJson)
        .put("postgres_pid", pg.isEmpty() ? null : pg.getLong(0)).put("postgres_port", setup.postgresPort())
        .put("node_log", nodeLog(setup.dataDir(), region).toString()).mergeIn(setup.stores().describe());
  }

  /** The postmaster (from its pid file) and its backends, while alive. */
  private List<ProcessHandle> postgresProcesses() {
    List<ProcessHandle> found = new ArrayList<>();
    try {
      long pid = Long.parseLong(Files.readAllLines(postgresDir().resolve("postmaster.pid")).get(0).strip());
      ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(postmaster -> {
        found.add(postmaster);
        postmaster.descendants().forEach(found::add);
      });
    } catch (IOException | RuntimeException e) {
      // no pid file or no such process: no server running
    }
    return found;
  }

  /** Starts the region's PostgreSQL on its data and port when it is not running (it recovers from the crash). */
  private boolean startPostgresIfDead() {
    if (!postgresProcesses().isEmpty()) {
      return false;
    }
    try {
      Path log = Files.createDirectories(setup.dataDir().resolve("regions")).resolve(region + "-postgres.log");
      setup.postgres().start(region, log);
      LOG.info("region {}: PostgreSQL started again on port {} (its data in {})", region, setup.postgresPort(), postgresDir());
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the PostgreSQL of " + region + " again", e);
    }
  }

  private static Process fork(List<String> command, Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().keySet().removeIf(key -> key.startsWith("GENMESH_")); // the config file is the whole truth
      builder.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }

  /**
   * Stops the region gently: SIGTERM to the workers, then the node (each leaves its cluster; what it held stays
   * in the request log), SIGKILL to what is left after {@link #STOP_GRACE}; then its Redis and object store. Its
   * PostgreSQL stops with the mesh's stores.
   */
  synchronized void stop() {
    List<ProcessHandle> order = new ArrayList<>();
    workers.values().forEach(w -> order.add(w.toHandle()));
    if (node != null) {
      node.children().forEach(order::add);
      order.add(node.toHandle());
    }
    order.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    for (ProcessHandle p : order) {
      try {
        p.onExit().get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        LOG.warn("region {}: process {} did not stop within {} s, killing it", region, p.pid(), STOP_GRACE.toSeconds());
        p.destroyForcibly();
      }
    }
    node = null;
    workers.clear();
    setup.stores().close();
  }
}
