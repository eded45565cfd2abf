package dev.genmesh.launcher.fault;

import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.FaultProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The three default regions (us-west, us-east, eu-west) and an edge, every part an OS process of
 * its own: per region its stores ({@link RegionStoresChild}: PostgreSQL, Redis, object store), its
 * node ({@code genmesh region}) and its workers ({@code genmesh worker}); the edge ({@code genmesh
 * edge}) in front. Request logs replicate in sync mode around the ring, images are copied to the
 * next region, failover is on with short timings ({@link #DETECT_MS}). Every node's API and the
 * edge are reached through a {@link FaultProxy} this JVM binds first: the node or edge binds port 0,
 * prints its port, and the proxies in front of it are pointed there (again at each restart), so no
 * port picked ahead can be taken before its listener binds it. The stores' ports are picked once
 * (below the ephemeral range, bound seconds later), so a region killed and started again finds its
 * data where it was.
 */
final class ProcessMesh {
  static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");
  static final String DATABASE = "genmesh";
  /** Longer than in-process tests: ten JVMs share two cores here, and a slow answer must not look like a dead region. */
  static final long DETECT_MS = 8000;
  static final long FENCE_MS = 5000;
  static final long FAILBACK_MS = 5000;
  static final long POLL_MS = 500;
  static final long POLL_TIMEOUT_MS = 2000;
  private static final Duration START = Duration.ofSeconds(180);
  private static final String MAIN = "dev.genmesh.launcher.Main";
  private static final List<String> JVM = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final Pattern READY = Pattern.compile("^READY ");
  private static final Pattern SERVING = Pattern.compile("\\[genmesh] worker \\S+ serving region");

  /** One region's fixed addresses and data directory. */
  record Region(String name, int httpPort, int pgPort, int redisPort, int s3Port, Path dir) {
    String url() {
      return "http://127.0.0.1:" + httpPort;
    }
  }

  private final ChildProcesses children;
  private final Path dir;
  private final Map<String, Region> regions = new LinkedHashMap<>();
  private final Map<String, List<ChildProcess>> processes = new LinkedHashMap<>();
  private final int edgePort;
  /** Listener ("edge" or a region) → the proxies in front of it, pointed at the port it binds when it starts. */
  private final Map<String, List<FaultProxy>> fronts = new LinkedHashMap<>();
  private final int workersPerRegion;
  /** The config file each region's processes read, and the edge's ("edge"). */
  private final Map<String, Path> configs = new LinkedHashMap<>();
  /** The links between the cuttable region and the other regions (APIs, PostgreSQL, object stores, both ways). */
  private final List<FaultProxy> betweenRegions = new ArrayList<>();
  /** The links between the cuttable region and the edge (the edge's to its API and store, its own to the edge). */
  private final List<FaultProxy> withEdge = new ArrayList<>();
  private ChildProcess edge;
  private int generation;

  ProcessMesh(ChildProcesses children, Path dir, int workersPerRegion) {
    this(children, dir, workersPerRegion, null);
  }

  /**
   * @param cuttable a region whose every link to the others (its API, PostgreSQL and object store as
   *     the others reach them, and theirs and the edge's as it reaches them) goes through a
   *     {@link FaultProxy}, so that {@link #partition} cuts it off while it runs; the edge reaches it
   *     through proxies of its own, so that {@link #partitionFromRegions} cuts it from the other
   *     regions only; null: none
   */
  ProcessMesh(ChildProcesses children, Path dir, int workersPerRegion, String cuttable) {
    this.children = children;
    this.dir = dir;
    this.workersPerRegion = workersPerRegion;
    this.edgePort = front("edge", null);
    Path credentials = dir.resolve("s3-credentials.properties");
    try {
      Files.writeString(credentials, "access_key=GMWHOLEREGIONTEST00\nsecret_key=" + "s3cr3t".repeat(7) + "\n");
      for (String name : REGIONS) {
        Region region = new Region(name, front(name, null), stablePort(), stablePort(),
            stablePort(), Files.createDirectories(dir.resolve(name)));
        regions.put(name, region);
        // Every region's store takes the same keys: the images config names one credentials file.
        Files.copy(credentials, Files.createDirectories(region.dir().resolve("s3")).resolve("credentials.properties"));
      }
      // A killed test JVM leaves the servers its store JVMs started (they are not its descendants for long).
      children.onCleanup(() -> regions.values().forEach(r -> RegionStoresChild.serverProcesses(r.dir())
          .forEach(ProcessHandle::destroyForcibly)));
      Map<String, Integer> clusterPorts = new LinkedHashMap<>();
      REGIONS.forEach(name -> clusterPorts.put(name, ProcessRegion.freePortRange(5)));
      String edgeUrl = "http://127.0.0.1:" + edgePort;
      Map<String, ProcessMeshConfig.SeenAt> direct = Map.of();
      Map<String, ProcessMeshConfig.SeenAt> intoCut = new LinkedHashMap<>();
      Map<String, ProcessMeshConfig.SeenAt> outOfCut = new LinkedHashMap<>();
      Map<String, ProcessMeshConfig.SeenAt> edgeSees = new LinkedHashMap<>();
      String cutEdgeUrl = edgeUrl;
      if (cuttable != null) {
        for (Region region : regions.values()) {
          ProcessMeshConfig.SeenAt through = new ProcessMeshConfig.SeenAt(front(region.name(), betweenRegions),
              proxy(region.pgPort(), betweenRegions), proxy(region.s3Port(), betweenRegions));
          (region.name().equals(cuttable) ? intoCut : outOfCut).put(region.name(), through);
        }
        Region cutOff = regions.get(cuttable);
        edgeSees.put(cuttable, new ProcessMeshConfig.SeenAt(front(cuttable, withEdge),
            proxy(cutOff.pgPort(), withEdge), proxy(cutOff.s3Port(), withEdge)));
        cutEdgeUrl = "http://127.0.0.1:" + front("edge", withEdge);
      }
      for (String name : REGIONS) {
        boolean isCut = name.equals(cuttable);
        configs.put(name, Files.writeString(dir.resolve(name + ".yaml"), ProcessMeshConfig.yaml(regions.values(),
            isCut ? cutEdgeUrl : edgeUrl, edgePort, credentials, isCut ? outOfCut : cuttable == null ? direct : intoCut,
            clusterPorts)));
      }
      configs.put("edge", Files.writeString(dir.resolve("edge.yaml"), ProcessMeshConfig.yaml(regions.values(), edgeUrl,
          edgePort, credentials, edgeSees, clusterPorts)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts every region (stores first, then nodes and workers) and the edge; returns once all serve. */
  void start() {
    REGIONS.forEach(this::startStores);
    REGIONS.forEach(name -> processes.get(name).get(0).awaitLine(READY, START));
    REGIONS.forEach(this::startNodeAndWorkers);
    edge = children.java("edge", JVM, MAIN, List.of("edge", "--config", configs.get("edge").toString(),
        "--data-dir", dir.resolve("edge").toString()));
    REGIONS.forEach(this::awaitRegion);
    pointFronts("edge", edge.awaitLine(Pattern.compile("\\[genmesh] edge listening on \\S+:(\\d+)"), START));
  }

  /** SIGKILL to every process of the region: node, workers, and its stores (PostgreSQL, Redis, object store). */
  void kill(String name) {
    List<ProcessHandle> servers = RegionStoresChild.serverProcesses(regions.get(name).dir());
    for (ChildProcess process : processes.remove(name)) {
      process.kill();
    }
    servers.forEach(ProcessHandle::destroyForcibly);
    servers.forEach(server -> server.onExit().join());
  }

  /** Starts the region again on its data (its stores recover from the crash); returns once it serves. */
  void restart(String name) {
    startStores(name);
    processes.get(name).get(0).awaitLine(READY, START);
    startNodeAndWorkers(name);
    awaitRegion(name);
  }

  /** Cuts every link of the cuttable region (connections closed, new ones refused); it keeps running. */
  void partition() {
    betweenRegions.forEach(FaultProxy::down);
    withEdge.forEach(FaultProxy::down);
  }

  /** Cuts the cuttable region from the other regions only: the edge still reaches it, and it the edge. */
  void partitionFromRegions() {
    betweenRegions.forEach(FaultProxy::down);
  }

  void heal() {
    betweenRegions.forEach(FaultProxy::up);
    withEdge.forEach(FaultProxy::up);
  }

  /**
   * A proxy in front of {@code listener}'s HTTP port (pointed there once it binds, {@link #pointFronts});
   * until then it refuses (its target is the discard port, where nothing listens here).
   *
   * @param cut the fault list it belongs to; null: none (the listener's own front)
   * @return the proxy's port
   */
  private int front(String listener, List<FaultProxy> cut) {
    FaultProxy proxy = FaultProxy.start("127.0.0.1", 9);
    fronts.computeIfAbsent(listener, l -> new ArrayList<>()).add(proxy);
    if (cut != null) {
      cut.add(proxy);
    }
    children.onCleanup(proxy::close);
    return proxy.port();
  }

  /** The listener printed the port it bound ({@code line}'s first group): every proxy in front of it points there. */
  private void pointFronts(String listener, java.util.regex.Matcher line) {
    int port = Integer.parseInt(line.group(1));
    fronts.get(listener).forEach(proxy -> proxy.retarget(port));
  }

  /**
   * A proxy to {@code port} on a port none of the mesh's listeners was given: those are chosen
   * free but not bound yet, and the system may hand one of them to the proxy.
   */
  private int proxy(int port, List<FaultProxy> cut) {
    java.util.Set<Integer> reserved = new java.util.HashSet<>(List.of(edgePort));
    regions.values().forEach(r -> reserved.addAll(List.of(r.httpPort(), r.pgPort(), r.redisPort(), r.s3Port())));
    FaultProxy proxy = FaultProxy.start("127.0.0.1", port);
    while (reserved.contains(proxy.port())) {
      FaultProxy taken = proxy;
      proxy = FaultProxy.start("127.0.0.1", port);
      taken.close();
    }
    cut.add(proxy);
    children.onCleanup(proxy::close);
    return proxy.port();
  }

  /** SIGKILL to every process of the mesh (a trial's next mesh starts on a quiet machine). */
  void stop() {
    List.copyOf(processes.keySet()).forEach(this::kill);
    if (edge != null) {
      edge.kill();
    }
  }

  MeshClient edge() {
    return MeshClient.edge("http://127.0.0.1:" + edgePort);
  }

  String edgeUrl() {
    return "http://127.0.0.1:" + edgePort;
  }

  MeshClient regional(String name) {
    return MeshClient.regional(regions.get(name).url());
  }

  Region region(String name) {
    return regions.get(name);
  }

  /** The region's node process running now. */
  ChildProcess node(String name) {
    return processes.get(name).get(1);
  }

  ChildProcess edgeProcess() {
    return edge;
  }

  private void startStores(String name) {
    Region region = regions.get(name);
    List<String> args = new ArrayList<>(List.of(region.dir().toString(), Integer.toString(region.pgPort()),
        Integer.toString(region.redisPort()), Integer.toString(region.s3Port()), DATABASE, "genmesh-" + name,
        "genmesh-" + name + "-copies"));
    List<ChildProcess> list = new ArrayList<>();
    generation++;
    list.add(children.java(name + "-stores-" + generation, List.of("-Xmx256m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1"), RegionStoresChild.class.getName(), args));
    processes.put(name, list);
  }

  private void startNodeAndWorkers(String name) {
    List<ChildProcess> list = processes.get(name);
    list.add(children.java(name + "-node-" + generation, JVM, MAIN, List.of("region", "--name", name,
        "--config", configs.get(name).toString(), "--data-dir", regions.get(name).dir().resolve("node").toString())));
    for (int i = 1; i <= workersPerRegion; i++) {
      list.add(children.java(name + "-worker-" + i + "-" + generation, JVM, MAIN, List.of("worker", "--region", name,
          "--id", name + "-w" + i, "--config", configs.get(name).toString(), "--data-dir", ModelCache.dataDir().toString())));
    }
  }

  private void awaitRegion(String name) {
    List<ChildProcess> list = processes.get(name);
    pointFronts(name, list.get(1).awaitLine(Pattern.compile("\\[genmesh] region " + name + " listening on \\S+:(\\d+)"),
        START));
    MeshClient client = regional(name);
    Sleeps.until(name + " ready", START, () -> client.get("/health/live").status() == 200 ? true : null);
    list.subList(2, list.size()).forEach(worker -> worker.awaitLine(SERVING, START));
  }

  /**
   * A free port below Linux's ephemeral range (32768-60999): the mesh's processes bind theirs only
   * seconds after it is picked, and a port from the ephemeral range can meanwhile be taken by any
   * outgoing connection on the machine (it happened: "Address already in use").
   */
  private static int stablePort() {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = random.nextInt(15_000, 32_000);
      try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
        socket.setReuseAddress(false);
        socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (java.io.IOException taken) {
        // try another
      }
    }
    return EmbeddedStores.freePort();
  }
}
