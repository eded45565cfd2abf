package dev.genmesh.inference;

import dev.genmesh.inference.pipeline.FaultHook;
import java.nio.file.Path;
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
 * @param spoolDir where the worker keeps its images until they are uploaded; null:
 *     {@code images.spool_dir}, else a new temporary folder
 */
public record WorkerOptions(FaultHook faultHook, DeviceLister deviceLister, Clock clock, String clusterNodeId,
    Path spoolDir) {

  public WorkerOptions {
    Objects.requireNonNull(faultHook, "faultHook");
    Objects.requireNonNull(clock, "clock");
  }

  /** No faults, TensorFlow's device list, the system clock, no cluster node id, the configured spool. */
  public static WorkerOptions defaults() {
    return new WorkerOptions(FaultHook.NONE, null, Clock.systemUTC(), null, null);
  }

  public WorkerOptions withFaultHook(FaultHook hook) {
    return new WorkerOptions(hook, deviceLister, clock, clusterNodeId, spoolDir);
  }

  public WorkerOptions withDeviceLister(DeviceLister lister) {
    return new WorkerOptions(faultHook, lister, clock, clusterNodeId, spoolDir);
  }

  public WorkerOptions withClock(Clock newClock) {
    return new WorkerOptions(faultHook, deviceLister, newClock, clusterNodeId, spoolDir);
  }

  public WorkerOptions withClusterNodeId(String nodeId) {
    return new WorkerOptions(faultHook, deviceLister, clock, nodeId, spoolDir);
  }

  public WorkerOptions withSpoolDir(Path dir) {
    return new WorkerOptions(faultHook, deviceLister, clock, clusterNodeId, dir);
  }
}
