package dev.genmesh.launcher.impl;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.launcher.tracing.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import java.util.ArrayList;
import java.util.function.Consumer;
import java.util.List;

/**
 * Builds a Vert.x instance that is a member of one region's Hazelcast cluster. Each region
 * has its own cluster name and TCP-IP member list, so regions never merge (no stretched
 * cluster across a WAN), and joins are fast (no multicast).
 */
public final class RegionCluster {
  /** A dead member is dropped after this long even if its sockets stay open (default 60 s). */
  static final String MAX_NO_HEARTBEAT_SECONDS = "10";

  /**
   * How often a cluster's master looks for a split-off part of its cluster to merge (defaults 300 s
   * first, then every 120 s): a worker frozen past {@link #MAX_NO_HEARTBEAT_SECONDS} is dropped and,
   * once thawed, finds itself alone; it rejoins within this long instead of minutes.
   */
  static final String MERGE_RUN_DELAY_SECONDS = "5";

  /** The member attribute in which vertx-hazelcast keeps a member's Vert.x node id. */
  static final String VERTX_NODE_ID = "__vertx.nodeId";

  private RegionCluster() {}

  public static Config hazelcastConfig(RegionConfig region, String bindHost) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName("genmesh-" + region.name());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", MAX_NO_HEARTBEAT_SECONDS);
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.merge.first.run.delay.seconds", MERGE_RUN_DELAY_SECONDS);
    config.setProperty("hazelcast.merge.next.run.delay.seconds", MERGE_RUN_DELAY_SECONDS);
    // Without it, a member whose peers are named by DNS (a Kubernetes headless Service)
    // takes that name as its own address and never joins them.
    config.setProperty("hazelcast.local.localAddress", bindHost);
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(region.clusterPort()).setPortAutoIncrement(true).setPortCount(20);
    network.getInterfaces().setEnabled(true).addInterface(bindHost);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(expandMembers(region.clusterMembers()));
    return config;
  }

  /** Hazelcast takes no port ranges in member addresses: {@code host:5701-5703} becomes three members. */
  static List<String> expandMembers(List<String> members) {
    List<String> out = new ArrayList<>();
    for (String member : members) {
      int colon = member.lastIndexOf(':');
      String ports = colon < 0 ? "" : member.substring(colon + 1);
      int dash = ports.indexOf('-');
      if (dash < 0) {
        out.add(member);
        continue;
      }
      String host = member.substring(0, colon);
      int first = Integer.parseInt(ports.substring(0, dash).trim());
      int last = Integer.parseInt(ports.substring(dash + 1).trim());
      for (int port = first; port <= last; port++) {
        out.add(host + ":" + port);
      }
    }
    return out;
  }

  /**
   * A clustered Vert.x instance with the cluster manager it was built with: Vert.x has no public
   * way back from the instance to its manager, so the member keeps it.
   */
  public record Member(Vertx vertx, HazelcastClusterManager cluster) {
    /** This member's Vert.x node id: what a worker reports in its heartbeats, and what {@link #onMemberLeft} names. */
    public String nodeId() {
      return cluster.getNodeId();
    }

    /** For a worker's member: whether a region node is in its view of the cluster now; always true for a region node's. */
    public boolean regionInView() {
      return !(cluster instanceof WorkerClusterManager worker) || worker.seesRegionNode();
    }

    /**
     * Calls {@code left} with the member id (Vert.x node id) of every member that leaves the
     * cluster, so the region node learns at once that a worker process died. Hazelcast's own
     * listener: Vert.x's {@code ClusterManager.nodeListener} slot belongs to the event bus.
     */
    public void onMemberLeft(Consumer<String> left) {
      cluster.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {}

        @Override
        public void memberRemoved(MembershipEvent event) {
          // Vert.x names a member by its own node id, kept as a member attribute (not Hazelcast's UUID).
          String nodeId = event.getMember().getAttribute(VERTX_NODE_ID);
          left.accept(nodeId != null ? nodeId : event.getMember().getUuid().toString());
        }
      });
    }
  }

  /**
   * Starts a clustered Vert.x member of {@code region} that holds a share of the cluster's data (a
   * region node); {@code registry} may be null (no Vert.x metrics).
   */
  public static Future<Member> join(RegionConfig region, String bindHost, MeterRegistry registry) {
    return join(new HazelcastClusterManager(hazelcastConfig(region, bindHost)), bindHost, registry);
  }

  /**
   * Starts a worker's clustered Vert.x member of {@code region}: a lite member that holds none of the
   * cluster's data, so that a frozen worker holds up nobody ({@link WorkerClusterManager}); completes
   * once a region node is in the cluster.
   */
  public static Future<Member> joinAsWorker(RegionConfig region, String bindHost, MeterRegistry registry) {
    return join(new WorkerClusterManager(hazelcastConfig(region, bindHost), region.name()), bindHost, registry);
  }

  private static Future<Member> join(HazelcastClusterManager cluster, String bindHost, MeterRegistry registry) {
    VertxOptions options = new VertxOptions()
        .setEventBusOptions(new EventBusOptions().setHost(bindHost).setPort(0).setClusterPublicHost(bindHost));
    var builder = Vertx.builder().withClusterManager(cluster);
    if (registry != null) {
      options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true));
      builder.withMetrics(new MicrometerMetricsFactory(registry));
    }
    return Tracing.apply(builder, options).buildClustered().map(vertx -> new Member(vertx, cluster));
  }
}
