package dev.genmesh.inference.impl;

import dev.genmesh.inference.DeviceLister.Device;
import java.util.List;

/**
 * Whether TensorFlow offers the device a worker is configured for, and how much memory it has
 * there. Pure. A {@code cpu} worker needs a CPU device; any other GPU class needs a GPU (the
 * CPU-only runtime, or a GPU runtime without its CUDA libraries, lists only the CPU).
 */
public final class DeviceCheck {
  private DeviceCheck() {}

  public static boolean isCpuClass(String gpuClass) {
    return "cpu".equalsIgnoreCase(gpuClass);
  }

  /** Null when the device is there; else what is missing. */
  public static String problem(String gpuClass, List<Device> devices) {
    boolean cpu = isCpuClass(gpuClass);
    boolean present = devices.stream().anyMatch(d -> cpu ? "CPU".equalsIgnoreCase(d.type()) : d.isGpu());
    if (present) {
      return null;
    }
    return "gpu_class " + gpuClass + " needs a " + (cpu ? "CPU" : "GPU") + " device; TensorFlow lists "
        + devices.stream().map(Device::name).toList();
  }

  /**
   * The memory the worker's models live in, in MB: the GPU's as TensorFlow reports it (0 when no
   * GPU is listed); on a CPU worker the configured budget, since TensorFlow reports no real figure
   * for host memory.
   */
  public static long memoryMb(String gpuClass, List<Device> devices, long budgetMb) {
    if (isCpuClass(gpuClass)) {
      return budgetMb;
    }
    return devices.stream().filter(Device::isGpu).mapToLong(Device::memoryBytes).max().orElse(0) / (1024 * 1024);
  }
}
