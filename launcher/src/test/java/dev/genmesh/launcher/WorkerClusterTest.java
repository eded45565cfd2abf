package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.launcher.impl.RegionCluster;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A region's cluster with real Hazelcast members on loopback: a worker is a lite member (it owns no
 * partition of the region's maps), it may start before any region node and joins once one is
 * there, and when the only region node leaves and another comes, the worker is reachable on the
 * event bus again (it published itself anew: what it had published died with the first node).
 */
class WorkerClusterTest {
  private static final long WAIT_S = 60;
  private final List<RegionCluster.Member> members = new ArrayList<>();

  @AfterEach
  void leave() {
    members.forEach(m -> Waits.await(WAIT_S, m.vertx().close()));
  }

  @Test
  void aWorkerHoldsNoDataWaitsForARegionNodeAndIsReachableAgainAfterTheNodesAreReplaced() {
    int port = EmbeddedStores.freePort();
    RegionConfig region = new RegionConfig("wc-" + UUID.randomUUID().toString().substring(0, 8), "wc", "127.0.0.1", 0,
        "", port, List.of("127.0.0.1:" + port + "-" + (port + 4)), null, null);

    Future<RegionCluster.Member> joining = RegionCluster.joinAsWorker(region, "127.0.0.1", null);
    Waits.eventually("the worker's Hazelcast member is up", () -> com.hazelcast.core.Hazelcast.getAllHazelcastInstances()
        .stream().anyMatch(h -> h.getConfig().getClusterName().equals("genmesh-" + region.name())));
    assertThat(joining.isComplete()).as("no region node yet: the worker has not joined").isFalse();

    RegionCluster.Member first = node(region);
    RegionCluster.Member worker = Waits.await(WAIT_S, joining);
    members.add(worker);
    assertThat(worker.cluster().getHazelcastInstance().getCluster().getLocalMember().isLiteMember()).isTrue();
    assertThat(worker.regionInView()).as("a region node in the worker's view: it may claim").isTrue();
    assertThat(first.regionInView()).as("a region node's own member").isTrue();
    // The subscription is in the cluster's map once registered; the node learns of it through a listener, a moment later.
    Waits.await(WAIT_S, worker.vertx().eventBus().<String>consumer("wc.ping", m -> m.reply("pong from the worker")).completion());
    awaitReachable(first, "the worker reachable from the first node");
    assertThat(first.cluster().getHazelcastInstance().getPartitionService().getPartitions())
        .as("every partition on the region node").allSatisfy(p -> assertThat(p.getOwner() == null || !p.getOwner().isLiteMember()).isTrue());

    RegionCluster.Member second = node(region);
    members.remove(first);
    Waits.await(WAIT_S, first.vertx().close());
    Waits.eventually("the first node gone and the second the only data member", () ->
        worker.cluster().getHazelcastInstance().getCluster().getMembers().stream().filter(m -> !m.isLiteMember()).count() == 1);
    awaitReachable(second, "the worker reachable from the second node");

    // Every region node gone, then a new one: the worker's subscriptions died with the nodes; it publishes them again.
    members.remove(second);
    Waits.await(WAIT_S, second.vertx().close());
    Waits.eventually(WAIT_S, () -> !worker.regionInView(), "no region node in the worker's view (it claims nothing)");
    RegionCluster.Member third = node(region);
    Waits.eventually(WAIT_S, worker::regionInView, "the new node in the worker's view");
    awaitReachable(third, "the worker reachable from a new node");
  }

  private static void awaitReachable(RegionCluster.Member from, String what) {
    Waits.eventually(WAIT_S, 200, () -> "pong from the worker".equals(tryAsk(from)), what);
  }

  private RegionCluster.Member node(RegionConfig region) {
    RegionCluster.Member member = Waits.await(WAIT_S, RegionCluster.join(region, "127.0.0.1", null));
    members.add(member);
    return member;
  }

  private static String ask(RegionCluster.Member from) {
    return Waits.await(WAIT_S, from.vertx().eventBus().<String>request("wc.ping", "ping")).body();
  }

  private static String tryAsk(RegionCluster.Member from) {
    try {
      return ask(from);
    } catch (AssertionError | RuntimeException e) {
      return null;
    }
  }
}
