package dev.genmesh.launcher;

import dev.genmesh.config.RegionConfig;
import dev.genmesh.launcher.impl.RegionCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/** In-process members of a region's Hazelcast cluster on loopback, under a cluster name of the test's own. */
final class TestCluster {
  private TestCluster() {}

  static Future<Vertx> join(RegionConfig region, String clusterName) {
    var hazelcast = RegionCluster.hazelcastConfig(region, "127.0.0.1");
    hazelcast.setClusterName(clusterName);
    return Vertx.builder()
        .withClusterManager(new HazelcastClusterManager(hazelcast))
        .with(new VertxOptions().setEventBusOptions(
            new EventBusOptions().setHost("127.0.0.1").setPort(0).setClusterPublicHost("127.0.0.1")))
        .buildClustered();
  }
}
