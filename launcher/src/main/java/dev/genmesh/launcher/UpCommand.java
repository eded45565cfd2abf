package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code genmesh up}: the whole mesh on this machine, on embedded defaults. */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start the whole mesh here: embedded PostgreSQL, Redis and an S3-compatible object store, three regions"
        + " with a CPU worker each, and the edge.")
final class UpCommand implements Runnable {
  @Mixin CommonOptions common;

  @Option(names = "--random-ports", description = "Listen on free ports instead of the configured ones.")
  boolean randomPorts;

  @Option(names = "--no-fsync", description = "Run the embedded stores without fsync (faster, loses data on power loss).")
  boolean noFsync;

  @Option(names = "--regions", split = ",", paramLabel = "NAME",
      description = "Start only these regions of the config, comma-separated (default: all).")
  List<String> regions;

  @Option(names = "--autoscale", description = "Let each region start and drain its own CPU workers (1 to 3) as its"
      + " queues ask (docs/autoscaling.md, \"Local actuator\").")
  boolean autoscale;

  @Option(names = "--chaos", description = "Route the object store and each region's PostgreSQL through fault proxies and"
      + " open the chaos control API on loopback, for 'genmesh chaos' (docs/chaos.md). Best with --autoscale.")
  boolean chaos;

  @Option(names = "--region-processes", description = "Run each region's node and workers as processes of their own, with"
      + " failover on, so that a region can be lost alone: 'genmesh region-kill NAME', 'genmesh region-start NAME'"
      + " (docs/failover.md, \"Losing a region in genmesh up\").")
  boolean regionProcesses;

  @Override
  public void run() {
    GenmeshConfig config = onlySelectedRegions(common.loadConfig());
    long started = System.nanoTime();
    var options = new Mesh.Options(common.dataDir(), randomPorts, !noFsync, common.bindHost, autoscale, common.loadTree());
    java.util.function.Consumer<String> progress = step -> System.out.println("[genmesh] " + step + " ...");
    Mesh mesh = Mesh.start(config, options, progress, chaos, regionProcesses);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("[genmesh] shutting down: edge, workers, regions, stores (queued work stays in the request log)");
      mesh.close();
      stopped.countDown();
    }, "genmesh-shutdown"));
    String base = "http://localhost:" + mesh.edgePort();
    System.out.printf("%n[genmesh] ready in %.1f s. Data in %s%n", (System.nanoTime() - started) / 1e9, options.dataDir());
    System.out.println("  web UI        " + base + "/");
    System.out.println("  API           " + base + "/v1/generations");
    System.out.println("  readiness     " + base + "/health/ready");
    System.out.println("  metrics       " + base + "/metrics");
    mesh.config().regions().values().forEach(r ->
        System.out.println("  region        " + r.name() + " " + r.effectiveApiUrl() + " (PostgreSQL 127.0.0.1:"
            + r.postgres().port() + "/" + r.postgres().database() + ", replication: " + r.effectiveApiUrl()
            + "/internal/replication)"));
    System.out.println("  replication   " + ReplicationPlan.describe(mesh.config()));
    mesh.regionProcesses().ifPresentOrElse(regions -> printOwnStores(mesh, regions), () -> printSharedStores(mesh));
    System.out.println("  images        served by the edge (" + mesh.config().images().edgeDelivery().wireName()
        + "), stored under " + (regionProcesses ? options.dataDir().resolve("regions") + "/<region>/"
        + dev.genmesh.embedded.EmbeddedStores.OBJECTS_DIR : options.dataDir().resolve(
        dev.genmesh.embedded.EmbeddedStores.OBJECTS_DIR)));
    if (mesh.dns().responder() != null) {
      var dns = mesh.config().failover().dns();
      System.out.println("  GeoDNS        " + mesh.dns().responder().address() + " (UDP and TCP) for " + dns.apiFqdn()
          + ", updates signed with " + mesh.dns().keyFile());
      System.out.println("                dig @" + dns.responder().host() + " -p " + mesh.dns().responder().port() + " "
          + dns.apiFqdn() + "   (+subnet=10.3.0.0/16 asks as a client in eu-west)");
    }
    if (mesh.dns().responder() == null && mesh.dns().failover() != null) {
      System.out.println("  DNS failover  through " + mesh.dns().failover().provider().describe());
    }
    mesh.workerHttp().forEach((region, url) ->
        System.out.println("  worker        " + region + " " + url + "/health/ready"));
    if (autoscale || regionProcesses) {
      System.out.println("  workers       processes" + (autoscale ? " started by each region" : "") + ", output in "
          + options.dataDir().resolve("workers") + "/<id>.log");
    }
    if (regionProcesses) {
      System.out.println("  regions       each a process group with failover on (node output in "
          + options.dataDir().resolve("regions") + "/<region>-node.log), each with its own Redis and object store"
          + " (above; also in GET /chaos/targets); take one down and back:");
      System.out.println("                genmesh region-kill " + mesh.config().regions().keySet().iterator().next()
          + " --data-dir " + options.dataDir() + "   (then region-start; watch " + base + "/ops and /failover/decisions)");
    }
    mesh.chaosControlUrl().ifPresent(url -> System.out.println("  chaos control " + url + " (token in "
        + options.dataDir().resolve(dev.genmesh.launcher.chaos.ChaosControl.CONTROL_FILE) + "; genmesh chaos --help)"));
    mesh.localKey().ifPresent(key -> {
      System.out.println("  your API key  " + key.secret());
      System.out.println("                (user '" + key.key().userId() + "'; shown this once, stored only as a hash;"
          + " send it as 'Authorization: Bearer KEY'. Another: genmesh keys issue --user local)");
    });
    if (!mesh.config().edge().requireApiKey()) {
      System.out.println("  anonymous     calls without a key are allowed here (edge.require_api_key: false)");
    }
    System.out.println("Press Ctrl-C to stop.");
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void printSharedStores(Mesh mesh) {
    System.out.println("  redis         " + mesh.stores().redisUrl() + " (master), replica on port "
        + mesh.redisHa().replicaPort() + ", sentinel " + mesh.redisHa().sentinelUrls().get(0) + " (master name '"
        + dev.genmesh.embedded.EmbeddedRedisHa.MASTER_NAME + "')");
    System.out.println("  object store  " + mesh.stores().objectStore().endpoint() + " (S3 API, keys in "
        + mesh.stores().objectStore().credentialsFile() + "), buckets "
        + mesh.config().images().allBuckets(List.copyOf(mesh.config().regions().keySet())));
  }

  /** {@code --region-processes}: no shared Redis or object store runs; each region's own, by region. */
  private static void printOwnStores(Mesh mesh, dev.genmesh.launcher.regions.RegionProcesses regions) {
    Map<String, String> objects = regions.objectStores();
    regions.redisAddresses().forEach((region, redis) -> System.out.println("  stores        " + region + ": redis "
        + redis + " (no replica or sentinel), object store " + objects.get(region) + " (S3 API, buckets "
        + mesh.config().images().forRegion(region).bucket() + " and the copies it holds)"));
    System.out.println("                object stores' keys in " + mesh.config().images().credentialsFile());
  }

  /** Fewer regions for a small machine or a test: each costs a region node and a CPU worker. */
  private GenmeshConfig onlySelectedRegions(GenmeshConfig config) {
    return CommonOptions.onlyRegions(config, regions);
  }
}
