package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.WorkerHttp;
import dev.genmesh.inference.WorkerOptions;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.launcher.impl.RegionCluster;
import dev.genmesh.launcher.scaling.KubernetesScaling;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.safety.SafetyVerticle;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The production roles, one per process: the edge, a region node, a worker, the reference
 * safety service. Stores are external here (real PostgreSQL and Redis from the config).
 */
final class RoleCommands {
  private static final long DEPLOYMENT_CHECK_MS = 500;
  /** Set when the JVM is told to stop: deployments going away then are not a drain. */
  private static final AtomicBoolean SHUTTING_DOWN = new AtomicBoolean();

  private RoleCommands() {}

  @Command(name = "edge", mixinStandardHelpOptions = true, description = "Run the edge router.")
  static final class Edge implements Runnable {
    @Mixin CommonOptions common;

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      dev.genmesh.launcher.tracing.Tracing.start(config.tracing(), "edge");
      Vertx vertx = dev.genmesh.launcher.tracing.Tracing.apply(Vertx.builder().withMetrics(new MicrometerMetricsFactory(meters)),
          new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true))).build();
      UserStore users = null;
      if (config.users().enabled()) {
        users = UserStores.open(vertx, config.users());
        // On the primary, once, behind a lock: every edge may ask.
        Mesh.await(users.migrate(), "migrate the user database");
      }
      EdgeVerticle edge = new EdgeVerticle(config, meters, Clock.systemUTC(), users);
      Mesh.await(vertx.deployVerticle(edge), "start the edge router");
      System.out.println("[genmesh] edge listening on " + config.edge().host() + ":" + edge.actualPort());
      // DNS follows the failover decisions published on this event bus (failover.dns.provider).
      Mesh.await(dev.genmesh.launcher.impl.LocalDns.startConfigured(vertx, config.failover().dns(), meters,
          System.getenv()), "start DNS failover");
      runUntilStopped(vertx);
    }
  }

  @Command(name = "region", mixinStandardHelpOptions = true, description = "Run a region node (joins its region's cluster).")
  static final class Region implements Runnable {
    @Mixin CommonOptions common;

    @Option(names = "--name", required = true, description = "Region name from the config, e.g. us-west.")
    String name;

    /** Set by {@code genmesh up --region-processes}: a region node it started must not outlive it. */
    @Option(names = "--exit-with-parent", hidden = true, paramLabel = "PID", description = "Exit when process PID exits.")
    Long parentPid;

    /** Set by {@code genmesh up --region-processes --autoscale}: this node starts its own worker processes. */
    @Option(names = "--local-workers", hidden = true, paramLabel = "MIN", description = "Scale local CPU worker"
        + " processes (a warm pool of MIN), as 'genmesh up --autoscale' does.")
    Integer localWorkers;

    /** Set by {@code genmesh up --region-processes --regions ...}: the regions of the mesh (its config file names all). */
    @Option(names = "--mesh-regions", hidden = true, split = ",", paramLabel = "NAME", description = "Only these regions"
        + " of the config make up the mesh.")
    java.util.List<String> meshRegions;

    @Override
    public void run() {
      if (parentPid != null) {
        exitWithParent(parentPid);
      }
      GenmeshConfig loaded = CommonOptions.onlyRegions(common.loadConfig(), meshRegions);
      GenmeshConfig config = localWorkers == null ? loaded
          : dev.genmesh.launcher.scaling.LocalAutoscaling.configure(loaded, localWorkers);
      RegionConfig region = config.region(name);
      PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      dev.genmesh.launcher.tracing.Tracing.start(config.tracing(), "region");
      RegionCluster.Member member = Mesh.await(RegionCluster.join(region, common.bindHost, meters), "join cluster of " + name);
      Vertx vertx = member.vertx();
      RegionNodeVerticle node = new RegionNodeVerticle(config, name, meters,
          CommonOptions.registryRoot(config, common.dataDir()).resolve(name), Clock.systemUTC())
          .withLocalSafety(new ReferenceSafety());
      if (localWorkers != null) {
        node.withActuator(LocalRegions.processActuator(vertx, config, region, node, common.dataDir(), common.bindHost,
            common.configFile));
      } else if (KubernetesScaling.attach(vertx, config, name, node, meters)) {
        System.out.println("[genmesh] region " + name + " scales worker Deployments in namespace "
            + config.autoscaling().kubernetes().namespace() + (config.autoscaling().kubernetes().dryRun() ? " (dry run)" : ""));
      }
      Mesh.await(vertx.deployVerticle(node), "start region node " + name);
      member.onMemberLeft(node::memberLeft);
      System.out.println("[genmesh] region " + name + " listening on " + region.httpHost() + ":" + node.actualPort());
      System.out.println("[genmesh] region " + name + " sends safety checks to " + node.safetyCheckUrl());
      System.out.println("[genmesh] region " + name + " keeps images in bucket " + config.images().forRegion(name).bucket()
          + " at " + endpoint(config.images().forRegion(name)));
      runUntilStopped(vertx);
    }
  }

  @Command(name = "worker", mixinStandardHelpOptions = true, description = "Run an inference worker (joins its region's cluster).")
  static final class Worker implements Runnable {
    @Mixin CommonOptions common;

    @Option(names = "--region", required = true, description = "Region to serve, e.g. us-west.")
    String region;

    @Option(names = "--id", description = "Worker id (default: <region code>-<pid>).")
    String id;

    /** Set by {@code genmesh up --autoscale}: a worker it started must not outlive it (e.g. after kill -9). */
    @Option(names = "--exit-with-parent", hidden = true, paramLabel = "PID", description = "Exit when process PID exits.")
    Long parentPid;

    @Override
    public void run() {
      if (parentPid != null) {
        exitWithParent(parentPid);
      }
      GenmeshConfig config = common.loadConfig();
      RegionConfig regionConfig = config.region(region);
      Supplier<String> defaultId = () -> regionConfig.code() + "-" + ManagementFactory.getRuntimeMXBean().getPid();
      PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      dev.genmesh.launcher.tracing.Tracing.start(config.tracing(), "worker");
      RegionCluster.Member member = Mesh.await(RegionCluster.joinAsWorker(regionConfig, common.bindHost, meters),
          "join cluster of " + region);
      Vertx vertx = member.vertx();
      String workerId = id != null ? id : defaultId.get();
      Path modelRoot = CommonOptions.modelRoot(config.worker(), common.dataDir());
      InferenceVerticle worker = new InferenceVerticle(config, region, workerId, meters,
          CommonOptions.modelSource(config, region, workerId, modelRoot, meters),
          WorkerOptions.defaults().withClusterNodeId(member.nodeId()).withRegionInView(member::regionInView)
              .withSpoolDir(CommonOptions.spoolDir(config, common.dataDir(), workerId)));
      // Probes first: live (and not ready) while the models load and warm up.
      WorkerHttp http = new WorkerHttp(worker, meters, common.bindHost, config.worker().httpPort());
      Mesh.await(vertx.deployVerticle(http), "start the HTTP probes of worker " + workerId);
      String deployment = Mesh.await(vertx.deployVerticle(worker), "start worker " + workerId);
      System.out.println("[genmesh] worker " + workerId + " serving region " + region
          + " (http " + common.bindHost + ":" + http.actualPort() + ")");
      Promise<String> finished = Promise.promise();
      // A drained worker undeploys itself: its process has nothing left to do, and exits 0.
      vertx.setPeriodic(DEPLOYMENT_CHECK_MS, timer -> {
        if (!SHUTTING_DOWN.get() && !vertx.deploymentIDs().contains(deployment)) {
          finished.tryComplete("drained");
        }
      });
      runUntilStopped(vertx, finished.future().onSuccess(reason ->
          System.out.println("[genmesh] worker " + workerId + " stopping: " + reason)));
    }
  }

  /**
   * Exits (0, through the shutdown hooks: Vert.x leaves the cluster) once process {@code pid} is
   * gone, at whatever point of start-up or work: what this worker held is re-queued when its lease lapses.
   */
  private static void exitWithParent(long pid) {
    Runnable exit = () -> {
      System.out.println("[genmesh] stopping: its parent process " + pid + " is gone");
      System.exit(0);
    };
    ProcessHandle.of(pid).ifPresentOrElse(parent -> parent.onExit().thenRunAsync(exit), exit);
  }

  @Command(name = "safety", mixinStandardHelpOptions = true,
      description = "Run the reference safety service alone (region-node/SAFETY.md); region nodes reach it through safety.url.")
  static final class Safety implements Runnable {
    @Mixin CommonOptions common;

    @Option(names = "--port", paramLabel = "PORT", description = "HTTP port (default: safety.port of the config; 0 = any free port).")
    Integer port;

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Vertx.builder()
          .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
          .withMetrics(new MicrometerMetricsFactory(meters))
          .build();
      SafetyVerticle service = new SafetyVerticle(config.safety(), common.bindHost,
          port != null ? port : config.safety().port(), meters);
      Mesh.await(vertx.deployVerticle(service), "start the safety service");
      System.out.println("[genmesh] safety service listening on " + common.bindHost + ":" + service.actualPort());
      runUntilStopped(vertx);
    }
  }

  /** The store's endpoint as configured, or what an empty one means. */
  static String endpoint(dev.genmesh.config.ImagesConfig.Bucket bucket) {
    return bucket.endpoint().isBlank() ? "AWS S3 (" + bucket.signingRegion() + ")" : bucket.endpoint();
  }

  private static void runUntilStopped(Vertx vertx) {
    runUntilStopped(vertx, Promise.<String>promise().future());
  }

  /** Runs until the JVM is told to stop (SIGTERM, Ctrl-C), or until {@code finished}: then closes Vert.x and exits 0. */
  private static void runUntilStopped(Vertx vertx, Future<String> finished) {
    CountDownLatch stopped = new CountDownLatch(1);
    CompletableFuture<Void> closed = new CompletableFuture<>();
    Runnable close = () -> {
      if (!closed.isDone()) {
        vertx.close().onComplete(ar -> closed.complete(null));
      }
      closed.orTimeout(60, TimeUnit.SECONDS).exceptionally(err -> null).join();
    };
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      SHUTTING_DOWN.set(true);
      close.run();
      stopped.countDown();
    }, "genmesh-shutdown"));
    finished.onSuccess(reason -> stopped.countDown());
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (finished.succeeded()) {
      close.run();
      System.exit(0);
    }
  }
}
