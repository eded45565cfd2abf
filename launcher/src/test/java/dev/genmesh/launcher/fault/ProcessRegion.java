package dev.genmesh.launcher.fault;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedRedisHa;
import dev.genmesh.embedded.EmbeddedStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One region run the production way, as separate OS processes ({@code genmesh region} and
 * {@code genmesh worker}) against stores the test owns (images in a bucket of its own). The region has a name of its own, so
 * its Hazelcast cluster ({@code genmesh-<name>}) never meets another test's, and short
 * timings (lease 2 s, heartbeat 500 ms) so that faults play out in seconds.
 */
final class ProcessRegion {
  static final String DATABASE = "genmesh_fault";
  static final long LEASE_MS = 2000;
  /** The default bucket template, {@code genmesh-{region}}. */
  private static final String BUCKET_PREFIX = "genmesh-";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final String MAIN = "dev.genmesh.launcher.Main";
  /** Small heaps, one GC thread, no C2: three JVMs start side by side on two cores. TensorFlow runs native anyway. */
  private static final List<String> JVM_OPTIONS = List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final ChildProcesses children;
  private final Path dir;
  private final String name;
  private final Path config;
  private final ImageObjects imageObjects;
  private MeshClient client;
  private final Map<String, Path> dataDirs = new java.util.HashMap<>();
  private ChildProcess node;

  ProcessRegion(ChildProcesses children, Path dir, FaultStores stores) {
    this(children, dir, stores, Timings.FAST, "");
  }

  /** @param extraYaml more top-level sections of the config file (e.g. {@code safety:}), merged after the region's */
  ProcessRegion(ChildProcesses children, Path dir, FaultStores stores, String extraYaml) {
    this(children, dir, stores, Timings.FAST, extraYaml);
  }

  /**
   * @param leaseMs the lease; a long one shows that a lost worker is noticed through its
   *     heartbeats and cluster membership, not through its lease
   * @param heartbeatMs how often workers heartbeat; the region judges one unhealthy after 3 misses
   */
  ProcessRegion(ChildProcesses children, Path dir, FaultStores stores, long leaseMs, long heartbeatMs) {
    this(children, dir, stores, Timings.FAST.withLease(leaseMs).withHeartbeat(heartbeatMs), "");
  }

  ProcessRegion(ChildProcesses children, Path dir, FaultStores stores, Timings timings) {
    this(children, dir, stores, timings, "");
  }

  private ProcessRegion(ChildProcesses children, Path dir, FaultStores stores, Timings timings, String extraYaml) {
    this.children = children;
    this.dir = dir;
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 6);
    this.name = "fault-" + suffix;
    EmbeddedObjectStore objects = stores.objectStore();
    objects.createBucket(BUCKET_PREFIX + name);
    this.imageObjects = new ImageObjects(objects.bucketDir(BUCKET_PREFIX + name));
    this.config = writeConfig(dir.resolve("genmesh.yaml"), name, "f" + suffix, stores.postgresPort(), stores.redisPort(),
        timings, extraYaml, stores.objectStoreEndpoint(), objects.credentialsFile(), stores.redisSentinels());
  }

  /**
   * The timings a region's config file sets: the lease, how often workers heartbeat, how the region
   * judges their silence (health), and the cap of the retry backoff (null: the default). Claims
   * poll every 200 ms and the lease reaper runs every 500 ms in every region here.
   */
  record Timings(long leaseMs, long workerHeartbeatMs, long healthIntervalMs, long healthTimeoutMs,
      int unhealthyAfterMisses, Long backoffCapMs) {
    /** Lease 2 s, heartbeats every 500 ms, unhealthy after 3 missed (1.5 s): faults play out in seconds. */
    static final Timings FAST = new Timings(LEASE_MS, 500, 500, 1500, 3, null);

    Timings withLease(long ms) {
      return new Timings(ms, workerHeartbeatMs, healthIntervalMs, healthTimeoutMs, unhealthyAfterMisses, backoffCapMs);
    }

    /** Workers heartbeat every {@code ms}, and the region expects them to (unhealthy after 3 misses). */
    Timings withHeartbeat(long ms) {
      return new Timings(leaseMs, ms, ms, 3 * ms, unhealthyAfterMisses, backoffCapMs);
    }

    /** The region expects a heartbeat every {@code intervalMs} and judges silence after {@code timeoutMs}. */
    Timings withHealth(long intervalMs, long timeoutMs) {
      return new Timings(leaseMs, workerHeartbeatMs, intervalMs, timeoutMs, unhealthyAfterMisses, backoffCapMs);
    }

    Timings withBackoffCap(long ms) {
      return new Timings(leaseMs, workerHeartbeatMs, healthIntervalMs, healthTimeoutMs, unhealthyAfterMisses, ms);
    }
  }

  /**
   * Starts the region node and one worker per id, all at once (their JVMs, cluster joins and
   * model loads overlap), and returns once the node reports ready and every worker serves.
   */
  Map<String, ChildProcess> start(String... workerIds) {
    return start(false, workerIds);
  }

  /**
   * @param nodeFirst the workers start once the region node listens, so the node is the oldest
   *     member (the Hazelcast master), as in production where region nodes outlive workers: the
   *     master removes a dead member as soon as its connection is refused
   */
  Map<String, ChildProcess> start(boolean nodeFirst, String... workerIds) {
    node = children.java("region", JVM_OPTIONS, MAIN,
        List.of("region", "--name", name, "--config", config.toString(), "--data-dir", dir.resolve("region-data").toString()));
    Pattern listeningLine = Pattern.compile("\\[genmesh] region \\S+ listening on ([\\d.]+):(\\d+)");
    if (nodeFirst) {
      node.awaitLine(listeningLine, START_TIMEOUT);
    }
    Map<String, ChildProcess> workers = new LinkedHashMap<>();
    for (String id : workerIds) {
      workers.put(id, startWorker(id));
    }
    Matcher listening = node.awaitLine(listeningLine, START_TIMEOUT);
    client = MeshClient.regional("http://" + listening.group(1) + ":" + listening.group(2));
    Sleeps.until("region " + name + " ready", START_TIMEOUT, () -> client.get("/health/ready").status() == 200 ? true : null);
    workers.values().forEach(worker ->
        worker.awaitLine(Pattern.compile("\\[genmesh] worker \\S+ serving region"), START_TIMEOUT));
    return workers;
  }

  /** Starts one more worker (it joins the running region); wait with {@link ChildProcess#awaitLine}. */
  ChildProcess startWorker(String id) {
    Path data = dataDirs.getOrDefault(id, ModelCache.dataDir());
    return children.java("worker-" + id, JVM_OPTIONS, MAIN, List.of("worker", "--region", name, "--id", id,
        "--config", config.toString(), "--data-dir", data.toString()));
  }

  /** Worker {@code id} runs on this data directory (its own models) instead of the shared model cache. */
  void useDataDir(String id, Path dataDir) {
    dataDirs.put(id, dataDir);
  }

  /**
   * Starts {@code genmesh safety} (the reference safety service) on {@code port} with this
   * region's config file, and returns once it listens.
   */
  ChildProcess startSafety(String processName, int port) {
    ChildProcess safety = children.java(processName, JVM_OPTIONS, MAIN,
        List.of("safety", "--port", Integer.toString(port), "--config", config.toString()));
    safety.awaitLine(Pattern.compile("\\[genmesh] safety service listening on [\\d.]+:" + port), START_TIMEOUT);
    return safety;
  }

  /** The region node's process (after {@link #start}). */
  ChildProcess node() {
    if (node == null) {
      throw new IllegalStateException("start the region node first");
    }
    return node;
  }

  MeshClient client() {
    if (client == null) {
      throw new IllegalStateException("start the region node first");
    }
    return client;
  }

  String name() {
    return name;
  }

  /** The configuration the region's processes run with (their config file, no environment). */
  GenmeshConfig config() {
    return ConfigLoader.load(config, Map.of());
  }

  /** The objects of the region's bucket (its finished images, by request and attempt). */
  ImageObjects imageObjects() {
    return imageObjects;
  }

  private static Path writeConfig(Path file, String region, String code, int postgresPort, int redisPort, Timings timings,
      String extraYaml, String objectsEndpoint, Path objectsCredentials, List<String> sentinels) {
    String redisExtra = sentinels.isEmpty() ? "" : ", sentinels: [" + String.join(", ", sentinels.stream()
        .map(u -> "\"" + u + "\"").toList()) + "], master_name: " + EmbeddedRedisHa.MASTER_NAME;
    String yaml = "regions:\n" + regionEntry(region, code, postgresPort, DATABASE, redisPort, 8, redisExtra) + """
        worker:
          heartbeat_interval_ms: %2$d
          claim_poll_ms: 200
        health:
          heartbeat_interval_ms: %3$d
          heartbeat_timeout_ms: %4$d
          unhealthy_after_misses: %5$d
        images:
          endpoint: "%6$s"
          credentials_file: "%7$s"
          copies: {to: none}         # one region on its own: no copies across regions
        queue:
          lease_ms: %1$d
          lease_reap_interval_ms: 500
        """.formatted(timings.leaseMs(), timings.workerHeartbeatMs(), timings.healthIntervalMs(),
        timings.healthTimeoutMs(), timings.unhealthyAfterMisses(), objectsEndpoint, objectsCredentials)
        + (timings.backoffCapMs() == null ? "" : "  backoff_cap_ms: " + timings.backoffCapMs() + "\n")
        + extraYaml;
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * One region's entry under {@code regions:} as the fault tests write it: HTTP on a free port, its
   * own Hazelcast port range, the given PostgreSQL database and Redis (a key prefix per region).
   */
  static String regionEntry(String region, String code, int postgresPort, String database, int redisPort, int poolSize) {
    return regionEntry(region, code, postgresPort, database, redisPort, poolSize, "");
  }

  /** @param redisExtra more keys of the region's {@code redis:} map (e.g. its sentinels), each after a comma */
  static String regionEntry(String region, String code, int postgresPort, String database, int redisPort, int poolSize,
      String redisExtra) {
    int cluster = freePortRange(5);
    return """
          %1$s:
            code: %2$s
            http_host: 127.0.0.1
            http_port: 0
            api_url: ""
            cluster_port: %3$d
            cluster_members: ["127.0.0.1:%3$d-%4$d"]
            postgres: {host: 127.0.0.1, port: %5$d, database: %6$s, user: postgres, pool_size: %8$d}
            redis: {url: "redis://127.0.0.1:%7$d", key_prefix: "genmesh:%1$s:"%9$s}
        """.formatted(region, code, cluster, cluster + 4, postgresPort, database, redisPort, poolSize, redisExtra);
  }

  /** The first of {@code count} consecutive free ports (Hazelcast members take the next ones in turn). */
  static int freePortRange(int count) {
    for (int tries = 0; tries < 50; tries++) {
      int first = EmbeddedStores.freePort();
      if (first + count > 65535) {
        continue;
      }
      boolean allFree = true;
      for (int port = first + 1; port < first + count && allFree; port++) {
        try (ServerSocket probe = new ServerSocket(port)) {
          probe.setReuseAddress(true);
        } catch (IOException e) {
          allFree = false;
        }
      }
      if (allFree) {
        return first;
      }
    }
    throw new IllegalStateException("no " + count + " consecutive free ports found");
  }
}
