package dev.genmesh.inference.impl;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scale-down of one worker ({@code Addresses.drain}): it claims nothing more, says so in
 * heartbeats, finishes what it holds and then leaves. Past {@code deadline_ms} (default
 * {@code autoscaling.drain_deadline_ms}) it is step-aware: a request whose remaining steps, at its
 * own pace, end within a quarter of the deadline runs to the end (handing it back would throw its
 * steps away); the others stop at their next step and go back to the region as {@code drained}
 * (retried at once with a priority boost), as does anything still running a quarter-deadline later.
 * Event loop only.
 */
public final class WorkerDrain {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerDrain.class);
  /** Past the deadline, a request that ends within this share of the deadline still finishes. */
  static final double FINISH_SHARE = 0.25;

  /** What draining does to the worker. */
  public interface Drainable {
    /** The ids of the requests it holds. */
    Set<String> held();

    /**
     * Hands back the held requests not started, and stops at their next step those that would run
     * longer than {@code finishWithinMs}, as {@code drained}.
     *
     * @return how many it lets finish
     */
    int drainHeld(double finishWithinMs);

    /** Holds nothing, runs nothing and is not stopping already. */
    boolean idle();

    void heartbeat();

    /** Undeploys the worker (a process then exits). */
    void leave();
  }

  private final String workerId;
  private final long defaultDeadlineMs;
  private final Drainable worker;
  private boolean draining;

  public WorkerDrain(String workerId, long defaultDeadlineMs, Drainable worker) {
    this.workerId = workerId;
    this.defaultDeadlineMs = defaultDeadlineMs;
    this.worker = worker;
  }

  /** The autoscaler's drain request (body {@code {worker_id, deadline_ms}}); answered at once. */
  public void onDrain(Vertx vertx, Message<JsonObject> message) {
    long deadlineMs = message.body() == null ? defaultDeadlineMs
        : message.body().getLong("deadline_ms", defaultDeadlineMs);
    message.reply(new JsonObject().put("worker_id", workerId).put("held", worker.held().size()));
    if (draining) {
      return;
    }
    draining = true;
    LOG.info("worker {}: draining ({} held, deadline {} ms)", workerId, worker.held().size(), deadlineMs);
    worker.heartbeat();
    long finishWithinMs = Math.max(1, Math.round(deadlineMs * FINISH_SHARE));
    vertx.setTimer(Math.max(1, deadlineMs), id -> {
      if (worker.held().isEmpty()) {
        leaveIfIdle();
        return;
      }
      int finishing = worker.drainHeld(finishWithinMs);
      LOG.info("worker {}: drain deadline passed; {} of {} held finish within {} ms, the others are handed back",
          workerId, finishing, worker.held().size(), finishWithinMs);
      if (finishing > 0) {
        vertx.setTimer(finishWithinMs, late -> {
          if (!worker.held().isEmpty()) {
            LOG.info("worker {}: handing back {} (still running after the drain deadline's grace)", workerId, worker.held());
            worker.drainHeld(0);
          }
          leaveIfIdle();
        });
      }
      leaveIfIdle();
    });
    leaveIfIdle();
  }

  /** A draining worker that holds nothing leaves. */
  public void leaveIfIdle() {
    if (draining && worker.idle()) {
      LOG.info("worker {}: drained, stopping", workerId);
      worker.leave();
    }
  }

  /** Told to drain: claims nothing more. */
  public boolean draining() {
    return draining;
  }
}
