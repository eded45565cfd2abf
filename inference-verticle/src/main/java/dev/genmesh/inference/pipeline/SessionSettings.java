package dev.genmesh.inference.pipeline;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;

/**
 * How a model's TensorFlow session uses the machine. The thread pools are private to the session
 * and capped, so several workers on one machine do not fight over cores. The GPU options matter
 * only to the GPU runtime ({@code -Pgpu}); the CPU runtime ignores them.
 *
 * @param visibleDevices GPU ids, comma-separated ({@code gpu_options.visible_device_list}); empty:
 *     all the process sees
 * @param allowGrowth {@code gpu_options.allow_growth}: allocate GPU memory as needed rather than
 *     nearly all of it when the session starts, so a second session (a restart, another model)
 *     still finds room
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, String visibleDevices,
    boolean allowGrowth) {

  public SessionSettings {
    if (intraOpThreads < 1 || interOpThreads < 1) {
      throw new IllegalArgumentException("thread counts must be at least 1");
    }
    visibleDevices = visibleDevices == null ? "" : visibleDevices.trim();
    if (!visibleDevices.isEmpty() && !visibleDevices.matches("\\d+(,\\d+)*")) {
      throw new IllegalArgumentException("visible devices must be GPU ids like 0,1, was '"
          + visibleDevices + "'");
    }
  }

  /** CPU threads only; GPU defaults (all devices, memory growth on). */
  public static SessionSettings threads(int intraOpThreads, int interOpThreads) {
    return new SessionSettings(intraOpThreads, interOpThreads, "", true);
  }

  public ConfigProto toConfigProto() {
    GPUOptions.Builder gpu = GPUOptions.newBuilder().setAllowGrowth(allowGrowth);
    if (!visibleDevices.isEmpty()) {
      gpu.setVisibleDeviceList(visibleDevices);
    }
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(interOpThreads)
        .setUsePerSessionThreads(true)
        .setGpuOptions(gpu)
        .build();
  }
}
