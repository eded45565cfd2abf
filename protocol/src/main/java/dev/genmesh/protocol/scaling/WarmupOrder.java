package dev.genmesh.protocol.scaling;

import dev.genmesh.protocol.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The warm-up conversation on {@link Addresses#warmup}: a starting worker names the models it can
 * serve; the region answers with them in the order to load, most wanted first. The worker takes
 * work once the first of them is warm and loads the rest behind it.
 */
public final class WarmupOrder {
  private WarmupOrder() {}

  /** What a starting worker can load. */
  public record Ask(String workerId, String gpuClass, List<String> models) {
    public Ask {
      models = List.copyOf(models);
    }

    public JsonObject toJson() {
      return new JsonObject().put("worker_id", workerId).put("gpu_class", gpuClass).put("models", new JsonArray(models));
    }

    public static Ask fromJson(JsonObject json) {
      return new Ask(json.getString("worker_id"), json.getString("gpu_class"), strings(json.getJsonArray("models")));
    }
  }

  /**
   * The region's answer.
   *
   * @param models the asked models, most wanted first (every asked model appears once)
   * @param family the model family the autoscaler's plan gave this worker, or null
   * @param reason why this order ({@code plan}, {@code demand}, {@code configured})
   */
  public record Answer(List<String> models, String family, String reason) {
    public Answer {
      models = List.copyOf(models);
    }

    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("models", new JsonArray(models)).put("reason", reason);
      if (family != null) {
        json.put("family", family);
      }
      return json;
    }

    public static Answer fromJson(JsonObject json) {
      return new Answer(strings(json.getJsonArray("models")), json.getString("family"), json.getString("reason", "demand"));
    }
  }

  private static List<String> strings(JsonArray array) {
    return array == null ? List.of() : array.stream().map(String::valueOf).toList();
  }
}
