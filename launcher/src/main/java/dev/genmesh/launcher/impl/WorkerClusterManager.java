package dev.genmesh.launcher.impl;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import io.vertx.core.Completable;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.Collection;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster manager of a worker process: a Hazelcast lite member, which owns no partition of the
 * region's maps (the event bus's subscriptions, its node table). A worker may freeze (a stuck GPU
 * driver, a paused VM) with its sockets open; as a data member it would hold a share of every map,
 * and every lookup of an address on its partitions would wait for it until Hazelcast dropped it
 * (docs/architecture.md, "The region's cluster"). As a lite member it is waited on by nobody.
 *
 * <p>A lite member cannot use the maps before a data member (a region node) is in the cluster, so
 * {@link #join} completes only once one is; and when the region nodes all left and one comes back,
 * the worker publishes its node and its subscriptions again (they were on the nodes that left), as
 * Vert.x does after a split-brain merge.
 */
final class WorkerClusterManager extends HazelcastClusterManager {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerClusterManager.class);

  private final String region;
  private final AtomicBoolean joined = new AtomicBoolean();
  private Vertx vertx;

  WorkerClusterManager(Config config, String region) {
    super(config.setLiteMember(true));
    this.region = region;
  }

  @Override
  public void init(Vertx vertx) {
    super.init(vertx);
    this.vertx = vertx;
  }

  @Override
  public void join(Completable<Void> promise) {
    super.join((ignored, failure) -> {
      if (failure != null) {
        promise.fail(failure);
        return;
      }
      awaitRegionNode().onComplete((ok, notYet) -> {
        joined.set(notYet == null);
        promise.complete(null, notYet);
      });
    });
  }

  @Override
  public synchronized void memberAdded(MembershipEvent event) {
    super.memberAdded(event);
    if (joined.get() && !event.getMember().isLiteMember() && dataMembers(event.getMembers()) == 1) {
      // The only data member is the one that just came: whatever this worker had published died with its predecessors.
      LOG.warn("region node {} joined a cluster of workers only: publishing this worker's subscriptions again",
          event.getMember().getAddress());
      vertx.executeBlocking(() -> {
        stateChanged(new LifecycleEvent(LifecycleEvent.LifecycleState.MERGED));
        return null;
      }, false).onFailure(e -> LOG.error("could not publish this worker's subscriptions again", e));
    }
  }

  /**
   * Whether this worker's view of the cluster holds a region node now: false after it was dropped
   * (frozen past the heartbeat timeout) until it merges back, and while every region node is gone.
   * The worker claims nothing meanwhile (WorkerOptions.regionInView).
   */
  boolean seesRegionNode() {
    HazelcastInstance hazelcast = getHazelcastInstance();
    try {
      return hazelcast != null && hazelcast.getLifecycleService().isRunning()
          && dataMembers(hazelcast.getCluster().getMembers()) > 0;
    } catch (RuntimeException e) {
      return false; // shutting down, or between clusters in a merge
    }
  }

  /** Completes once the cluster has a data member (a region node). */
  private io.vertx.core.Future<Void> awaitRegionNode() {
    HazelcastInstance hazelcast = getHazelcastInstance();
    Promise<Void> found = Promise.promise();
    UUID listener = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        if (!event.getMember().isLiteMember()) {
          found.tryComplete();
        }
      }

      @Override
      public void memberRemoved(MembershipEvent event) {}
    });
    if (dataMembers(hazelcast.getCluster().getMembers()) > 0) {
      found.tryComplete();
    } else {
      LOG.info("waiting for a region node in cluster genmesh-{} (a worker holds none of the region's data)", region);
    }
    return found.future().andThen(done -> hazelcast.getCluster().removeMembershipListener(listener));
  }

  private static long dataMembers(Collection<Member> members) {
    return members.stream().filter(m -> !m.isLiteMember()).count();
  }
}
