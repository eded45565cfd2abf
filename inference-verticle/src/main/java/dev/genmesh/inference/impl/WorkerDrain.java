package dev.genmesh.inference.impl;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scale-down of one worker ({@code Addresses.drain}): it claims nothing more, says so in
 * heartbeats, finishes what it holds and then leaves; past {@code deadline_ms} (default
 * {@code autoscaling.drain_deadline_ms}) the held requests stop at their next step and go back to
 * the region as {@code drained}. Event loop only.
 */
public final class WorkerDrain {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerDrain.class);

  /** What draining does to the worker. */
  public interface Worker {
    /** The ids of the requests it holds. */
    Set<String> held();

    /** Stops the held requests at their next step and hands back those not started, as {@code drained}. */
    void drainHeld();

    /** Holds nothing, runs nothing and is not stopping already. */
    boolean idle();

    void heartbeat();

    /** Undeploys the worker (a process then exits). */
    void leave();
  }

  private final String workerId;
  private final long defaultDeadlineMs;
  private final Worker worker;
  private boolean draining;

  public WorkerDrain(String workerId, long defaultDeadlineMs, Worker worker) {
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
    vertx.setTimer(Math.max(1, deadlineMs), id -> {
      if (!worker.held().isEmpty()) {
        LOG.info("worker {}: drain deadline passed; handing back {}", workerId, worker.held());
      }
      worker.drainHeld();
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
