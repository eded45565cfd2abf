package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedRedisHa;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.EmbeddedUserDb;
import dev.genmesh.launcher.chaos.FaultPoints;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Where {@code genmesh up}'s parts reach each other on this machine: the embedded stores' endpoints, and readiness. */
public final class LocalEndpoints {
  private static final Logger LOG = LoggerFactory.getLogger(LocalEndpoints.class);

  private LocalEndpoints() {}

  /**
   * The config pointed at the embedded stores (through {@code faults}' proxies with {@code up --chaos}); with
   * {@code randomPorts}, every region and the edge on port 0 and each region's cluster on a port of its own.
   */
  public static GenmeshConfig apply(GenmeshConfig base, boolean randomPorts, String bindHost, FaultPoints faults,
      EmbeddedStores stores, EmbeddedRedisHa redisHa, EmbeddedUserDb userDb) {
    GenmeshConfig local = pointed(base, randomPorts, bindHost, faults, stores, userDb, region ->
        new RegionConfig.RedisConfig(stores.redisUrl(), region.redis().keyPrefix())
            .withSentinels(redisHa.sentinelUrls(), EmbeddedRedisHa.MASTER_NAME))
        .withImages(base.images().withStore(faults.routeUrl("objects", stores.objectStore().endpoint()),
            stores.objectStore().credentialsFile().toString()));
    return randomPorts ? local.withEdge(local.edge().withPort(0)) : local;
  }

  /**
   * As {@link #apply}, for {@code up --region-processes}: only the regions' PostgreSQL servers run here
   * ({@link EmbeddedStores#startRegionalPostgres}); each region's own Redis and object store are named later
   * ({@code RegionProcesses.startStores}), so the images keep no endpoint of their own, only {@code credentialsFile}.
   */
  public static GenmeshConfig applyPostgresOnly(GenmeshConfig base, boolean randomPorts, String bindHost,
      FaultPoints faults, EmbeddedStores stores, EmbeddedUserDb userDb, java.nio.file.Path credentialsFile) {
    GenmeshConfig local = pointed(base, randomPorts, bindHost, faults, stores, userDb, RegionConfig::redis)
        .withImages(base.images().withStore("", credentialsFile.toString()));
    return randomPorts ? local.withEdge(local.edge().withPort(0)) : local;
  }

  private static GenmeshConfig pointed(GenmeshConfig base, boolean randomPorts, String bindHost, FaultPoints faults,
      EmbeddedStores stores, EmbeddedUserDb userDb,
      java.util.function.Function<RegionConfig, RegionConfig.RedisConfig> redisOf) {
    Map<String, RegionConfig> regions = new LinkedHashMap<>();
    for (RegionConfig region : base.regions().values()) {
      RegionConfig local = region.withStores(
          region.postgres().withEndpoint("127.0.0.1",
              faults.route("postgres-" + region.name(), stores.postgresPort(region.name()))),
          redisOf.apply(region));
      if (randomPorts) {
        int clusterPort = EmbeddedStores.freePort();
        local = local.withHttpPort(0)
            .withCluster(clusterPort, List.of(bindHost + ":" + clusterPort + "-" + (clusterPort + 4)));
      }
      regions.put(region.name(), local);
    }
    return (userDb == null ? base : LocalUsers.pointedAt(base, userDb.startedPrimary(), userDb.ports()))
        .withRegions(regions);
  }

  /** Returns once {@code url} answers 200 (the mesh can take requests); fails after {@code timeoutS}. */
  public static void awaitReady(String url, long timeoutS) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    while (System.nanoTime() < deadline) {
      try {
        if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
        Thread.sleep(100);
      } catch (java.io.IOException e) {
        LOG.debug("edge not answering yet: {}", e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the edge to be ready");
      }
    }
    throw new IllegalStateException("the edge did not report ready within " + timeoutS + " s (" + url + ")");
  }
}
