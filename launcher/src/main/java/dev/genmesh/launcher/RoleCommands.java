package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.WorkerHttp;
import dev.genmesh.launcher.impl.KubernetesScaling;
import dev.genmesh.launcher.impl.RegionCluster;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.region.safety.SafetyVerticle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The production roles, one per process: the edge, a region node, a worker, the reference
 * safety service. Stores are external here (real PostgreSQL and Redis from the config).
 */
final class RoleCommands {
  private RoleCommands() {}

  @Command(name = "edge", mixinStandardHelpOptions = true, description = "Run the edge router.")
  static final class Edge implements Runnable {
    @Mixin CommonOptions common;

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Vertx.builder()
          .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
          .withMetrics(new MicrometerMetricsFactory(registry))
          .build();
      EdgeVerticle edge = new EdgeVerticle(config, registry);
      Mesh.await(vertx.deployVerticle(edge), "start the edge router");
      System.out.println("[genmesh] edge listening on " + config.edge().host() + ":" + edge.actualPort());
      runUntilStopped(vertx);
    }
  }

  @Command(name = "region", mixinStandardHelpOptions = true, description = "Run a region node (joins its region's cluster).")
  static final class Region implements Runnable {
    @Mixin CommonOptions common;

    @Option(names = "--name", required = true, description = "Region name from the config, e.g. us-west.")
    String name;

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      RegionConfig region = config.region(name);
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Mesh.await(RegionCluster.join(region, common.bindHost, registry), "join cluster of " + name);
      RegionNodeVerticle node = new RegionNodeVerticle(config, name, registry, common.dataDir().resolve("images").resolve(name),
          CommonOptions.registryRoot(config, common.dataDir()).resolve(name), Clock.systemUTC());
      if (KubernetesScaling.attach(vertx, config, name, node, registry)) {
        System.out.println("[genmesh] region " + name + " scales worker Deployments in namespace "
            + config.autoscaling().kubernetes().namespace() + (config.autoscaling().kubernetes().dryRun() ? " (dry run)" : ""));
      }
      Mesh.await(vertx.deployVerticle(node), "start region node " + name);
      RegionCluster.onMemberLeft(vertx, node::memberLeft);
      System.out.println("[genmesh] region " + name + " listening on " + region.httpHost() + ":" + node.actualPort());
      System.out.println("[genmesh] region " + name + " sends safety checks to " + node.safetyCheckUrl());
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

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      RegionConfig regionConfig = config.region(region);
      Supplier<String> defaultId = () -> regionConfig.code() + "-" + ManagementFactory.getRuntimeMXBean().getPid();
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Mesh.await(RegionCluster.join(regionConfig, common.bindHost, registry), "join cluster of " + region);
      String workerId = id != null ? id : defaultId.get();
      Path modelRoot = CommonOptions.modelRoot(config.worker(), common.dataDir());
      InferenceVerticle worker = new InferenceVerticle(config, region, workerId, registry, modelRoot,
          CommonOptions.modelSource(config, region, workerId, modelRoot, registry));
      // Probes first: live (and not ready) while the models load and warm up.
      WorkerHttp http = new WorkerHttp(worker, registry, common.bindHost, config.worker().httpPort());
      Mesh.await(vertx.deployVerticle(http), "start the HTTP probes of worker " + workerId);
      Mesh.await(vertx.deployVerticle(worker), "start worker " + workerId);
      System.out.println("[genmesh] worker " + workerId + " serving region " + region
          + " (http " + common.bindHost + ":" + http.actualPort() + ")");
      runUntilStopped(vertx);
    }
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
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Vertx.builder()
          .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
          .withMetrics(new MicrometerMetricsFactory(registry))
          .build();
      SafetyVerticle service = new SafetyVerticle(config.safety(), common.bindHost,
          port != null ? port : config.safety().port(), registry);
      Mesh.await(vertx.deployVerticle(service), "start the safety service");
      System.out.println("[genmesh] safety service listening on " + common.bindHost + ":" + service.actualPort());
      runUntilStopped(vertx);
    }
  }

  private static void runUntilStopped(Vertx vertx) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      vertx.close().toCompletionStage().toCompletableFuture().join();
      stopped.countDown();
    }, "genmesh-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
