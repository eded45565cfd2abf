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
 */
public record WorkerOptions(FaultHook faultHook, DeviceLister deviceLister, Clock clock) {

  public WorkerOptions {
    Objects.requireNonNull(faultHook, "faultHook");
    Objects.requireNonNull(clock, "clock");
  }

  /** No faults, TensorFlow's device list, the system clock. */
  public static WorkerOptions defaults() {
    return new WorkerOptions(FaultHook.NONE, null, Clock.systemUTC());
  }

  public WorkerOptions withFaultHook(FaultHook hook) {
    return new WorkerOptions(hook, deviceLister, clock);
  }

  public WorkerOptions withDeviceLister(DeviceLister lister) {
    return new WorkerOptions(faultHook, lister, clock);
  }

  public WorkerOptions withClock(Clock newClock) {
    return new WorkerOptions(faultHook, deviceLister, newClock);
  }
}
