package dev.genmesh.region.scheduler.impl;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.region.queue.QueueEntry;
import dev.genmesh.region.scheduler.IdleWorkers;
import dev.genmesh.region.scheduler.Routing;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * The claims of idle workers that found nothing and may wait (a long poll: {@code wait_ms}),
 * oldest first. Work that arrives wakes one claim that can take it; the claim script still
 * decides what it gets (tier order, relax share, fair order: docs/architecture.md, I5). Runs on
 * the node's context; calls from elsewhere hop onto it.
 */
public final class ParkedClaims implements IdleWorkers {
  /** A claim waits at most this long, whatever it asks. */
  public static final long MAX_WAIT_MS = 30_000;
  /** The header that names the node a {@code workAvailable} publish came from. */
  static final String NODE_HEADER = "genmesh-node";

  private final Vertx vertx;
  private final Context context;
  private final String region;
  private final Routing routing;
  private final String nodeId = UUID.randomUUID().toString();
  private final Map<Long, Parked> parked = new LinkedHashMap<>();
  private long nextKey;
  private long waitingAtLastSample;
  private long lastSampleKey;

  private record Parked(long key, Claim claim, BooleanSupplier resume, Runnable expire, long timer) {}

  /** @param context the node's context, where every parked claim is kept and woken */
  public ParkedClaims(Vertx vertx, Context context, String region, Routing routing) {
    this.vertx = vertx;
    this.context = context;
    this.region = region;
    this.routing = routing;
  }

  /**
   * Keeps a claim that found nothing until work arrives ({@code resume}: runs the claim again and
   * answers false if it declined at once, without looking) or {@code waitMs} passes
   * ({@code expire}: answers NO_WORK). A newer claim of the same worker replaces an older one.
   */
  void park(Claim claim, long waitMs, BooleanSupplier resume, Runnable expire) {
    onContext(() -> {
      forgetNow(claim.workerId());
      long key = nextKey++;
      long timer = vertx.setTimer(Math.max(1, waitMs), id -> {
        Parked p = parked.remove(key);
        if (p != null) {
          p.expire().run();
        }
      });
      parked.put(key, new Parked(key, claim, resume, expire, timer));
    });
  }

  /** How many claims wait now (node context). */
  public int size() {
    return parked.size();
  }

  @Override
  public void queued(QueueEntry entry) {
    onContext(() -> {
      if (!wakeOne(p -> canRun(p.claim(), entry))) {
        publish(entry.tier().wireName());
      }
    });
  }

  @Override
  public void available(String reason, long count) {
    onContext(() -> {
      long woken = 0;
      while (woken < count && wakeOne(p -> true)) {
        woken++;
      }
      publish(reason);
    });
  }

  @Override
  public void forget(String workerId) {
    onContext(() -> forgetNow(workerId));
  }

  @Override
  public void depths(long waiting) {
    onContext(() -> {
      if (waiting > 0 && waitingAtLastSample > 0) {
        // Work waited across two samples while these claims waited too: they look again, as a poll would.
        long before = lastSampleKey;
        boolean more = true;
        while (more) {
          more = wakeOne(p -> p.key() < before);
        }
      }
      waitingAtLastSample = waiting;
      lastSampleKey = nextKey;
    });
  }

  /** A {@code workAvailable} publish: another node's work that none of its claims could take wakes one here. */
  public void published(Message<Object> message) {
    if (!nodeId.equals(message.headers().get(NODE_HEADER))) {
      onContext(() -> wakeOne(p -> true));
    }
  }

  /** The node stops: every waiting claim is answered NO_WORK, so its worker claims elsewhere. */
  public void close() {
    onContext(() -> {
      List<Parked> all = new ArrayList<>(parked.values());
      parked.clear();
      all.forEach(p -> {
        vertx.cancelTimer(p.timer());
        p.expire().run();
      });
    });
  }

  /**
   * What the claim script would let this worker take, short of what lapses with the routing hold
   * (lua/claim.lua, {@code fits}): the model, the GPU class's request classes, memory, exclusions.
   */
  boolean canRun(Claim claim, QueueEntry entry) {
    if (claim.batchWith() != null || (!claim.models().isEmpty() && !claim.models().contains(entry.model()))) {
      return false;
    }
    Optional<Set<String>> classes = routing.classesFor(claim.gpuClass());
    if (entry.requestClass() != null && classes.isPresent() && !classes.get().contains(entry.requestClass())) {
      return false;
    }
    long free = claim.freeVramMb();
    if (free > 0 && entry.vramMb() > free) {
      return false;
    }
    if (entry.minVramMb() > 0 && free <= entry.minVramMb()) {
      return false;
    }
    return !entry.excludedWorkers().contains(claim.workerId());
  }

  /** Wakes the oldest waiting claim that {@code which} accepts and that takes the wake; false if none did. */
  private boolean wakeOne(Predicate<Parked> which) {
    while (true) {
      Parked chosen = null;
      for (Parked p : parked.values()) {
        if (which.test(p)) {
          chosen = p;
          break;
        }
      }
      if (chosen == null) {
        return false;
      }
      parked.remove(chosen.key());
      vertx.cancelTimer(chosen.timer());
      if (chosen.resume().getAsBoolean()) {
        return true;
      }
    }
  }

  private void forgetNow(String workerId) {
    List<Parked> gone = new ArrayList<>();
    for (Iterator<Parked> it = parked.values().iterator(); it.hasNext(); ) {
      Parked p = it.next();
      if (p.claim().workerId().equals(workerId)) {
        it.remove();
        gone.add(p);
      }
    }
    gone.forEach(p -> {
      vertx.cancelTimer(p.timer());
      p.expire().run();
    });
  }

  private void publish(String reason) {
    vertx.eventBus().publish(Addresses.workAvailable(region), reason, new DeliveryOptions().addHeader(NODE_HEADER, nodeId));
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }
}
