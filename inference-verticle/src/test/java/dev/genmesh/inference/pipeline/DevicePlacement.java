package dev.genmesh.inference.pipeline;

import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * The devices TensorFlow really ran a model's ops on, from a traced run's step stats: a GPU
 * check must look at placement, because TF falls back to the CPU silently.
 */
final class DevicePlacement {

  private DevicePlacement() {}

  static Set<String> devicesUsed(LoadedModel model) {
    Signature decode = model.bundle().signatures().stream()
        .filter(s -> s.key().equals("decode")).findFirst().orElseThrow();
    String input = decode.getInputs().get("latent").name;
    String output = decode.getOutputs().get("image").name;
    Session session = model.bundle().session();
    RunOptions trace = RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
    try (Tensor latent = TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(1, 2, 2, 4));
        Result result = session.runner().feed(input, latent).fetch(output).setOptions(trace)
            .runAndFetchMetadata()) {
      RunMetadata metadata = result.getMetadata().orElseThrow();
      Set<String> devices = new TreeSet<>();
      metadata.getStepStats().getDevStatsList().forEach(d -> devices.add(d.getDevice()));
      return devices;
    }
  }
}
