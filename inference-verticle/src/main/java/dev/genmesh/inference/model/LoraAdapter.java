package dev.genmesh.inference.model;

import static dev.genmesh.inference.model.ModelContract.EMBEDDING_DIM;
import static dev.genmesh.inference.model.ModelContract.LORA_CONV_A;
import static dev.genmesh.inference.model.ModelContract.LORA_CONV_B;
import static dev.genmesh.inference.model.ModelContract.LORA_WAVE_A;
import static dev.genmesh.inference.model.ModelContract.LORA_WAVE_B;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A LoRA adapter: for each adapted weight W, low-rank factors A and B so that the step uses
 * W + scale * (alpha / rank) * A·B. On disk it is two files in {@code adapters/<name>/<version>/}:
 * {@code adapter.json} (name, version, rank, alpha, tensor keys and shapes, in file order) and
 * {@code weights.bin} (the tensors as little-endian float32, row-major, one after another).
 */
public record LoraAdapter(String name, String version, int rank, double alpha,
    Map<String, Tensor> tensors) {

  public static final String DESCRIPTOR = "adapter.json";
  public static final String WEIGHTS = "weights.bin";

  /** One factor: its shape and row-major values. */
  public record Tensor(long[] shape, float[] values) {}

  public LoraAdapter {
    tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
  }

  /** {@code name@version}. */
  public String reference() {
    return name + "@" + version;
  }

  /** Multiplier of A·B at request scale 1. */
  public double unitScale() {
    return alpha / rank;
  }

  /** Directory of an adapter inside its model, relative and with '/' separators. */
  public static String directory(String name, String version) {
    return "adapters/" + name + "/" + version;
  }

  /**
   * Seeded factors for a denoiser with {@code hidden} channels. The composition factors are
   * large enough to move the prompt's field visibly (a "style"); the conv ones add texture.
   */
  static LoraAdapter generate(String name, String version, int rank, int hidden, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int wave = DenoiserWeights.WAVES * DenoiserWeights.WAVE_PARAMS;
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put(LORA_WAVE_A, gaussian(random, 0.25, EMBEDDING_DIM, rank));
    tensors.put(LORA_WAVE_B, gaussian(random, 0.25, rank, wave));
    tensors.put(LORA_CONV_A, gaussian(random, 0.15, 9L * hidden, rank));
    tensors.put(LORA_CONV_B, gaussian(random, 0.15, rank, hidden));
    return new LoraAdapter(name, version, rank, rank, tensors);
  }

  /** Writes {@code adapter.json} and {@code weights.bin} into {@code dir} (created if needed). */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    JsonArray layout = new JsonArray();
    int floats = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      JsonArray shape = new JsonArray();
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      layout.add(new JsonObject().put("key", e.getKey()).put("shape", shape));
      floats += e.getValue().values().length;
    }
    JsonObject descriptor = new JsonObject().put("name", name).put("version", version)
        .put("kind", "lora").put("rank", rank).put("alpha", alpha).put("tensors", layout);
    Files.writeString(dir.resolve(DESCRIPTOR), descriptor.encodePrettily() + "\n",
        StandardCharsets.UTF_8);
    ByteBuffer bytes = ByteBuffer.allocate(floats * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (Tensor t : tensors.values()) {
      for (float v : t.values()) {
        bytes.putFloat(v);
      }
    }
    Files.write(dir.resolve(WEIGHTS), bytes.array());
  }

  /** Reads an adapter written by {@link #write}. */
  public static LoraAdapter read(Path dir) throws IOException {
    JsonObject descriptor =
        new JsonObject(Files.readString(dir.resolve(DESCRIPTOR), StandardCharsets.UTF_8));
    ByteBuffer bytes =
        ByteBuffer.wrap(Files.readAllBytes(dir.resolve(WEIGHTS))).order(ByteOrder.LITTLE_ENDIAN);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Object item : descriptor.getJsonArray("tensors")) {
      JsonObject t = (JsonObject) item;
      List<Object> dims = t.getJsonArray("shape").getList();
      long[] shape = dims.stream().mapToLong(d -> ((Number) d).longValue()).toArray();
      long size = 1;
      for (long d : shape) {
        size *= d;
      }
      if (size * Float.BYTES > bytes.remaining()) {
        throw new IOException(dir.resolve(WEIGHTS) + " is shorter than " + DESCRIPTOR + " says");
      }
      float[] values = new float[(int) size];
      for (int i = 0; i < values.length; i++) {
        values[i] = bytes.getFloat();
      }
      tensors.put(t.getString("key"), new Tensor(shape, values));
    }
    if (bytes.hasRemaining()) {
      throw new IOException(dir.resolve(WEIGHTS) + " is longer than " + DESCRIPTOR + " says");
    }
    return new LoraAdapter(descriptor.getString("name"), descriptor.getString("version"),
        descriptor.getInteger("rank"), descriptor.getDouble("alpha"), tensors);
  }

  private static Tensor gaussian(SplittableRandom random, double std, long rows, long cols) {
    float[] values = new float[(int) (rows * cols)];
    for (int i = 0; i < values.length; i++) {
      double u1 = 1.0 - random.nextDouble();
      double u2 = random.nextDouble();
      values[i] = (float) (Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2) * std);
    }
    return new Tensor(new long[] {rows, cols}, values);
  }
}
