package dev.genmesh.inference;

import dev.genmesh.inference.pipeline.FaultHook;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;
import java.util.function.BooleanSupplier;

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
 * @param regionInView whether the worker's view of its region's cluster holds a region node; false
 *     while it is cut off (dropped from the cluster after a freeze, before it merges back; every
 *     region node gone): it claims nothing then, since it could hand in nothing it ran (the
 *     region could not answer it). Always true outside a cluster
 */
public record WorkerOptions(FaultHook faultHook, DeviceLister deviceLister, Clock clock, String clusterNodeId,
    Path spoolDir, BooleanSupplier regionInView) {

  public WorkerOptions {
    Objects.requireNonNull(faultHook, "faultHook");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(regionInView, "regionInView");
  }

  /** No faults, TensorFlow's device list, the system clock, no cluster node id, the configured spool, the region always in view. */
  public static WorkerOptions defaults() {
    return new WorkerOptions(FaultHook.NONE, null, Clock.systemUTC(), null, null, () -> true);
  }

  public WorkerOptions withFaultHook(FaultHook hook) {
    return new WorkerOptions(hook, deviceLister, clock, clusterNodeId, spoolDir, regionInView);
  }

  public WorkerOptions withDeviceLister(DeviceLister lister) {
    return new WorkerOptions(faultHook, lister, clock, clusterNodeId, spoolDir, regionInView);
  }

  public WorkerOptions withClock(Clock newClock) {
    return new WorkerOptions(faultHook, deviceLister, newClock, clusterNodeId, spoolDir, regionInView);
  }

  public WorkerOptions withClusterNodeId(String nodeId) {
    return new WorkerOptions(faultHook, deviceLister, clock, nodeId, spoolDir, regionInView);
  }

  public WorkerOptions withSpoolDir(Path dir) {
    return new WorkerOptions(faultHook, deviceLister, clock, clusterNodeId, dir, regionInView);
  }

  public WorkerOptions withRegionInView(BooleanSupplier inView) {
    return new WorkerOptions(faultHook, deviceLister, clock, clusterNodeId, spoolDir, inView);
  }
}
