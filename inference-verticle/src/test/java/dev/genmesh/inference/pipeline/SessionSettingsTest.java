package dev.genmesh.inference.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.genmesh.inference.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;

/** GPU device choice and memory growth reach TensorFlow's session config; devices are checked, not assumed. */
class SessionSettingsTest {

  @Test
  void gpuOptionsAndThreadPoolsGoIntoTheConfigProto() {
    ConfigProto proto = new SessionSettings(2, 1, "1,3", true).toConfigProto();
    assertThat(proto.getGpuOptions().getVisibleDeviceList()).isEqualTo("1,3");
    assertThat(proto.getGpuOptions().getAllowGrowth()).isTrue();
    assertThat(proto.getIntraOpParallelismThreads()).isEqualTo(2);
    assertThat(proto.getInterOpParallelismThreads()).isEqualTo(1);
    assertThat(proto.getUsePerSessionThreads()).isTrue();

    ConfigProto all = SessionSettings.threads(1, 1).toConfigProto();
    assertThat(all.getGpuOptions().getVisibleDeviceList()).isEmpty();
    assertThat(new SessionSettings(1, 1, "", false).toConfigProto().getGpuOptions().getAllowGrowth()).isFalse();
  }

  @Test
  void aDeviceListThatIsNotGpuIdsIsRefused() {
    assertThatThrownBy(() -> new SessionSettings(1, 1, "gpu0", true)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void onTheCpuRuntimeTheStepRunsOnTheCpuAndTheGpuOptionsAreIgnored() {
    try (LoadedModel model = ModelStore.load(TestModels.tiny(), new SessionSettings(1, 1, "0", true))) {
      Set<String> devices = DevicePlacement.devicesUsed(model);
      assertThat(devices).isNotEmpty().allMatch(d -> d.contains("CPU"), "a CPU device");
    }
  }

  /** Only where a GPU and the CUDA 12 libraries exist (the -Pgpu runtime): skipped on these machines. */
  @Test
  void withAGpuTheStepRunsOnTheVisibleDevice() {
    assumeTrue(Files.exists(Path.of("/dev/nvidia0")) && Files.exists(Path.of("/dev/nvidiactl")),
        "no GPU on this machine");
    try (LoadedModel model = ModelStore.load(TestModels.tiny(), new SessionSettings(1, 1, "0", true))) {
      assertThat(DevicePlacement.devicesUsed(model)).anyMatch(d -> d.endsWith("device:GPU:0"));
    }
  }
}
