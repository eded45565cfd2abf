package dev.genmesh.protocol;

import dev.genmesh.protocol.scaling.ScalingDecision;
import dev.genmesh.protocol.scaling.WarmupOrder;

/** Event-bus addresses inside one region's cluster. Declared here and nowhere else. */
public final class Addresses {
  private Addresses() {}

  /** Request: a worker asks for work ({@link WorkerMessages#claim}); answer: an assignment or fail(NO_WORK). */
  public static String claim(String region) {
    return "genmesh." + region + ".queue.claim";
  }

  /** Publish: the region tells idle workers that work arrived (body: tier name). */
  public static String workAvailable(String region) {
    return "genmesh." + region + ".queue.available";
  }

  /** Send: a worker reports one finished denoising step. */
  public static String progress(String region) {
    return "genmesh." + region + ".progress";
  }

  /** Request: a worker hands in the images of a finished request. */
  public static String result(String region) {
    return "genmesh." + region + ".result";
  }

  /** Request: a worker reports that a request failed on it. */
  public static String failure(String region) {
    return "genmesh." + region + ".failure";
  }

  /** Publish: worker heartbeats (every 10 s by default). */
  public static String heartbeat(String region) {
    return "genmesh." + region + ".worker.heartbeat";
  }

  /** Publish: the request was cancelled; the worker running it stops at the next step. */
  public static String cancel(String region) {
    return "genmesh." + region + ".request.cancel";
  }

  /** Publish: every progress event of the region, for stream subscribers. */
  public static String events(String region) {
    return "genmesh." + region + ".events";
  }

  /**
   * Publish: the region asks its autoscaler for a worker to replace one it lost (unhealthy, dead,
   * breaker open); body {@code {region, worker_id, reason, gpu_class}}.
   */
  public static String replacements(String region) {
    return "genmesh." + region + ".scaling.replacements";
  }

  /**
   * Publish: the autoscaler changed a GPU pool's target ({@link ScalingDecision#toJson}); the same
   * record goes to the region's {@code scaling_decisions} table.
   */
  public static String scalingDecisions(String region) {
    return "genmesh." + region + ".scaling.decisions";
  }

  /** Publish: a worker's health as the region judges it changed; body {@code {worker_id, state, reason}}. */
  public static String workerHealth(String region) {
    return "genmesh." + region + ".workers.health";
  }

  /**
   * Send: the autoscaler asks one worker to drain (body {@code {worker_id, deadline_ms}}): it claims
   * nothing more, heartbeats {@code draining: true}, finishes what it runs and then stops; past
   * {@code deadline_ms} it stops its requests at their next step and hands them back as
   * {@link FailureType#DRAINED}.
   */
  public static String drain(String region, String workerId) {
    return "genmesh." + region + ".worker." + workerId + ".drain";
  }

  /**
   * Request: a starting worker asks which of its models to load first ({@link WarmupOrder}); the
   * region answers with the order its demand and the autoscaler's last plan ask for. A worker
   * that gets no answer loads its models in configured order.
   */
  public static String warmup(String region) {
    return "genmesh." + region + ".scaling.warmup";
  }

  /**
   * Publish: one usage event per request that reached COMPLETED or FAILED, for billing, from the
   * region node that committed it (docs/event-bus.md; dedupe on {@code request_id}).
   */
  public static final String USAGE = "genmesh.usage";

  /** Publish: alerts for internal services. */
  public static final String ALERTS = "genmesh.alerts";
}
