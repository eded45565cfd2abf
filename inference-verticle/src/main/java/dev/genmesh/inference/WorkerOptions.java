package dev.genmesh.inference;

import dev.genmesh.inference.pipeline.FaultHook;
import java.time.Clock;
import java.util.Objects;

/**
 * What a worker can be given besides its configuration, mostly for tests.
 *
 * @param faultHook called before every denoising step; tests throw TensorFlow's own exceptions
 *     from it to induce OOMs and device errors
 * @param deviceLister the devices liveness checks for; null: TensorFlow's, with the worker's
 *     session settings
 * @param clock the time of the model-load backoff and of the queue-contact readiness check
 * @param clusterNodeId the Vert.x node id of the cluster member the worker runs on (the deployer
 *     built that member and knows it), sent in heartbeats so that the region notices at once when
 *     the member leaves; null outside a cluster
 */
public record WorkerOptions(FaultHook faultHook, DeviceLister deviceLister, Clock clock, String clusterNodeId) {

  public WorkerOptions {
    Objects.requireNonNull(faultHook, "faultHook");
    Objects.requireNonNull(clock, "clock");
  }

  /** No faults, TensorFlow's device list, the system clock, no cluster node id. */
  public static WorkerOptions defaults() {
    return new WorkerOptions(FaultHook.NONE, null, Clock.systemUTC(), null);
  }

  public WorkerOptions withFaultHook(FaultHook hook) {
    return new WorkerOptions(hook, deviceLister, clock, clusterNodeId);
  }

  public WorkerOptions withDeviceLister(DeviceLister lister) {
    return new WorkerOptions(faultHook, lister, clock, clusterNodeId);
  }

  public WorkerOptions withClock(Clock newClock) {
    return new WorkerOptions(faultHook, deviceLister, newClock, clusterNodeId);
  }

  public WorkerOptions withClusterNodeId(String nodeId) {
    return new WorkerOptions(faultHook, deviceLister, clock, nodeId);
  }
}
