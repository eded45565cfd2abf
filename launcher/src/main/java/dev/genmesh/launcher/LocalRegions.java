package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.WorkerHttp;
import dev.genmesh.inference.WorkerOptions;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.launcher.impl.RegionCluster;
import dev.genmesh.launcher.scaling.LocalWorkerActuator;
import dev.genmesh.launcher.scaling.impl.WorkerConfigFile;
import dev.genmesh.launcher.scaling.impl.WorkerProcesses;
import dev.genmesh.region.RegionNodeVerticle;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The regions of {@code genmesh up} inside its own JVM (the default): one Hazelcast member per
 * region node and per worker, or, with {@code --autoscale}, worker processes each region's
 * autoscaler starts and stops ({@link LocalWorkerActuator}).
 */
final class LocalRegions {
  /** How long a worker process has to leave its cluster after SIGTERM before it is killed. */
  private static final Duration WORKER_STOP_GRACE = Duration.ofSeconds(20);

  private final PrometheusMeterRegistry meters;
  private final List<Vertx> members = new ArrayList<>();
  private final List<Vertx> workers = new ArrayList<>();
  private final List<RegionNodeVerticle> regionNodes = new ArrayList<>();
  private final List<LocalWorkerActuator> actuators = new ArrayList<>();
  private final Map<String, String> workerHttp = new LinkedHashMap<>();
  private final Map<String, WorkerProcesses> workerProcesses = new LinkedHashMap<>();
  /** Per region node, the pool that starts its worker processes (blocking: a fork and a file write). */
  private final List<WorkerExecutor> processStarters = new ArrayList<>();
  /** Completes once every region node listens: worker processes need their real ports. */
  private final Promise<Void> regionsStarted = Promise.promise();

  /** The configuration as running once the regions listen (worker processes are given it). */
  private volatile GenmeshConfig runningConfig;

  LocalRegions(PrometheusMeterRegistry meters) {
    this.meters = meters;
  }

  /**
   * Starts every region node and (without {@code --autoscale}) its worker in this JVM, one Hazelcast member each;
   * returns {@code config} with the ports they listen on.
   */
  GenmeshConfig start(GenmeshConfig config, Mesh.Options options, Consumer<String> progress, Path modelRoot,
      Path registryRoot) {
    Map<String, String> regionUrls = new java.util.concurrent.ConcurrentHashMap<>();
    String primary = config.registry().primary();

    Map<String, RegionConfig> started = new LinkedHashMap<>();
    for (RegionConfig region : config.regions().values()) {
      progress.accept("starting region " + region.name() + " (Hazelcast cluster genmesh-" + region.name() + ")");
      RegionCluster.Member member = Mesh.await(RegionCluster.join(region, options.bindHost(), null),
          "join cluster of " + region.name());
      Vertx node = member.vertx();
      members.add(node);
      RegionNodeVerticle verticle = new RegionNodeVerticle(config, region.name(), meters,
          registryRoot.resolve(region.name()), Clock.systemUTC())
          .withLocalSafety(new ReferenceSafety())
          .withPrimaryRegistryUrl(() -> regionUrls.getOrDefault(primary, "http://127.0.0.1:" + config.region(primary).httpPort()));
      if (options.autoscale()) {
        // Worker processes start once every region listens, with the config as running (real ports).
        WorkerExecutor starter = node.createSharedWorkerExecutor("genmesh-worker-processes-" + region.name(), 1);
        processStarters.add(starter);
        LocalWorkerActuator actuator = new LocalWorkerActuator(node, region.name(), region.code() + "-worker",
            config.worker().gpuClass(), config.autoscaling().drainDeadlineMs(), verticle::knownWorkers,
            workerId -> startWorkerProcess(starter, region.name(), workerId, options),
            workerId -> WorkerProcesses.logOf(options.dataDir(), workerId), Clock.systemUTC());
        actuators.add(actuator);
        verticle.withActuator(actuator);
      }
      Mesh.await(node.deployVerticle(verticle), "start region node " + region.name());
      member.onMemberLeft(verticle::memberLeft);
      regionNodes.add(verticle);
      started.put(region.name(), region.withHttpPort(verticle.actualPort())
          .withApiUrl("http://" + options.bindHost() + ":" + verticle.actualPort()));
      regionUrls.put(region.name(), started.get(region.name()).apiUrl());
    }
    GenmeshConfig running = config.withRegions(started);
    runningConfig = running;
    regionsStarted.complete();

    for (RegionConfig region : options.autoscale() ? List.<RegionConfig>of() : running.regions().values()) {
      progress.accept("starting CPU inference worker of " + region.name() + " (loads the model, runs a warm-up)");
      RegionCluster.Member member = Mesh.await(RegionCluster.joinAsWorker(region, options.bindHost(), null),
          "join cluster of " + region.name());
      Vertx worker = member.vertx();
      workers.add(worker);
      String workerId = region.code() + "-worker-1";
      InferenceVerticle verticle = new InferenceVerticle(running, region.name(), workerId, meters,
          CommonOptions.modelSource(running, region.name(), workerId, modelRoot, meters),
          WorkerOptions.defaults().withClusterNodeId(member.nodeId()).withRegionInView(member::regionInView)
              .withSpoolDir(CommonOptions.spoolDir(running, options.dataDir(), workerId)));
      // Any free port: the three workers share this process and its configuration.
      WorkerHttp http = new WorkerHttp(verticle, meters, options.bindHost(), 0);
      Mesh.await(worker.deployVerticle(http), "start the HTTP probes of the worker of " + region.name());
      Mesh.await(worker.deployVerticle(verticle), "start inference worker of " + region.name());
      workerHttp.put(region.name(), "http://" + options.bindHost() + ":" + http.actualPort());
    }
    return running;
  }


  /** A worker the autoscaler asked for: a {@code genmesh worker} process (the region judges it by heartbeats). */
  private Future<Process> startWorkerProcess(WorkerExecutor starter, String regionName, String workerId, Mesh.Options options) {
    return regionsStarted.future().compose(v -> starter.executeBlocking(() ->
        workerProcesses(regionName, options).start(workerId)));
  }

  /** The region's worker starter, with its config file written on first use (the mesh runs by then). */
  private synchronized WorkerProcesses workerProcesses(String regionName, Mesh.Options options) {
    return workerProcesses.computeIfAbsent(regionName, name -> new WorkerProcesses(options.dataDir(), options.bindHost(),
        WorkerConfigFile.write(options.dataDir().resolve("workers"), options.configTree(), runningConfig, name), name));
  }

  /**
   * The actuator of a region node run as a process of its own ({@code genmesh up --region-processes --autoscale}):
   * its workers are {@code genmesh worker} processes of that node, on the node's own config file.
   */
  static LocalWorkerActuator processActuator(Vertx vertx, GenmeshConfig config, RegionConfig region, RegionNodeVerticle node,
      Path dataDir, String bindHost, Path configFile) {
    WorkerProcesses processes = new WorkerProcesses(dataDir, bindHost, configFile.toAbsolutePath(), region.name());
    WorkerExecutor starter = vertx.createSharedWorkerExecutor("genmesh-worker-processes", 1);
    return new LocalWorkerActuator(vertx, region.name(), region.code() + "-worker", config.worker().gpuClass(),
        config.autoscaling().drainDeadlineMs(), node::knownWorkers,
        workerId -> starter.executeBlocking(() -> processes.start(workerId)),
        workerId -> WorkerProcesses.logOf(dataDir, workerId), Clock.systemUTC());
  }

  /** Tells every region node's failover participant where the others and the edge listen. */
  void useAddresses(Map<String, String> addresses) {
    regionNodes.forEach(node -> node.failover().useAddresses(addresses));
  }

  List<String> scaledWorkers() {
    return actuators.stream().flatMap(a -> a.workerIds().stream()).toList();
  }

  Map<String, Long> workerPids() {
    Map<String, Long> pids = new LinkedHashMap<>();
    actuators.forEach(a -> pids.putAll(a.workerPids()));
    return pids;
  }

  Map<String, String> workerHttp() {
    return Map.copyOf(workerHttp);
  }

  List<Vertx> members() {
    return List.copyOf(members);
  }

  /** The workers first (what they held stays in the request log), then the region nodes. */
  void close() {
    regionsStarted.tryFail("the mesh is stopping");
    actuators.forEach(a -> a.close(WORKER_STOP_GRACE));
    processStarters.forEach(WorkerExecutor::close);
    workers.forEach(v -> Mesh.closeQuietly(v, "worker"));
    members.forEach(v -> Mesh.closeQuietly(v, "region node"));
  }
}
