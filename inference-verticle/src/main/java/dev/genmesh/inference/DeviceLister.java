package dev.genmesh.inference;

import dev.genmesh.inference.impl.TensorFlowDevices;
import dev.genmesh.inference.pipeline.SessionSettings;
import java.util.List;

/**
 * The devices TensorFlow offers the worker's sessions. Liveness asserts the configured device is
 * among them: TensorFlow falls back to the CPU silently when the CUDA libraries are missing, so
 * a successful run proves nothing about the GPU. Tests inject a list to exercise a GPU worker on
 * a machine without one.
 */
@FunctionalInterface
public interface DeviceLister {

  /**
   * One device as TensorFlow names it.
   *
   * @param type {@code CPU}, {@code GPU}, ...
   * @param memoryBytes the memory TensorFlow may use on it (for a GPU: its memory limit)
   */
  record Device(String name, String type, long memoryBytes) {
    public boolean isGpu() {
      return "GPU".equalsIgnoreCase(type);
    }
  }

  /** Blocking (it opens a TensorFlow session): call it off the event loop. */
  List<Device> devices();

  /** What a session with {@code settings} (thread pools, visible GPU ids) sees. */
  static DeviceLister tensorFlow(SessionSettings settings) {
    return new TensorFlowDevices(settings);
  }
}
