package dev.genmesh.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Messages between a region's workers and its region node, as JSON on the event bus. */
public final class WorkerMessages {
  private WorkerMessages() {}

  /** A worker asks for work that fits it. */
  public record Claim(String workerId, String gpuClass, long freeVramMb, List<String> models) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("worker_id", workerId)
          .put("gpu_class", gpuClass)
          .put("free_vram_mb", freeVramMb)
          .put("models", new JsonArray(new ArrayList<>(models)));
    }

    public static Claim fromJson(JsonObject json) {
      return new Claim(
          json.getString("worker_id"),
          json.getString("gpu_class", "cpu"),
          json.getLong("free_vram_mb", 0L),
          strings(json.getJsonArray("models")));
    }
  }

  /** The answer to a claim: one request, its attempt number and the lease the worker holds. */
  public record Assignment(String requestId, int attempt, long leaseMs, GenerationSpec spec) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("lease_ms", leaseMs)
          .put("spec", spec.toJson());
    }

    public static Assignment fromJson(JsonObject json) {
      return new Assignment(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getLong("lease_ms"),
          GenerationSpec.fromJson(json.getJsonObject("spec")));
    }
  }

  /** One denoising step done. */
  public record Step(String requestId, int attempt, String workerId, int step, int total, double stepMs) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("worker_id", workerId)
          .put("step", step)
          .put("total", total)
          .put("step_ms", stepMs);
    }

    public static Step fromJson(JsonObject json) {
      return new Step(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getString("worker_id"),
          json.getInteger("step"),
          json.getInteger("total"),
          json.getDouble("step_ms", 0.0));
    }
  }

  /** The finished images of one attempt, as PNG bytes. */
  public record Result(String requestId, int attempt, String workerId, List<byte[]> pngs, double totalMs) {
    public JsonObject toJson() {
      JsonArray images = new JsonArray();
      pngs.forEach(png -> images.add(Base64.getEncoder().encodeToString(png)));
      return new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("worker_id", workerId)
          .put("images", images)
          .put("total_ms", totalMs);
    }

    public static Result fromJson(JsonObject json) {
      List<byte[]> pngs = new ArrayList<>();
      for (String encoded : strings(json.getJsonArray("images"))) {
        pngs.add(Base64.getDecoder().decode(encoded));
      }
      return new Result(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getString("worker_id"),
          pngs,
          json.getDouble("total_ms", 0.0));
    }
  }

  /** An attempt that failed on the worker, with the failure type (oom, gpu_error, model_corrupted, cancelled, error). */
  public record Failure(String requestId, int attempt, String workerId, String failureType, String message) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("worker_id", workerId)
          .put("failure_type", failureType)
          .put("message", message);
    }

    public static Failure fromJson(JsonObject json) {
      return new Failure(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getString("worker_id"),
          json.getString("failure_type", "error"),
          json.getString("message", ""));
    }
  }

  /** A worker's periodic report; it also renews the leases of the requests it runs. */
  public record Heartbeat(
      String workerId,
      String region,
      String gpuClass,
      long vramTotalMb,
      long vramFreeMb,
      List<String> loadedModels,
      double utilisation,
      List<String> activeRequests,
      long sentAtMs) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("worker_id", workerId)
          .put("region", region)
          .put("gpu_class", gpuClass)
          .put("vram_total_mb", vramTotalMb)
          .put("vram_free_mb", vramFreeMb)
          .put("loaded_models", new JsonArray(new ArrayList<>(loadedModels)))
          .put("utilisation", utilisation)
          .put("active_requests", new JsonArray(new ArrayList<>(activeRequests)))
          .put("sent_at_ms", sentAtMs);
    }

    public static Heartbeat fromJson(JsonObject json) {
      return new Heartbeat(
          json.getString("worker_id"),
          json.getString("region"),
          json.getString("gpu_class", "cpu"),
          json.getLong("vram_total_mb", 0L),
          json.getLong("vram_free_mb", 0L),
          strings(json.getJsonArray("loaded_models")),
          json.getDouble("utilisation", 0.0),
          strings(json.getJsonArray("active_requests")),
          json.getLong("sent_at_ms", 0L));
    }
  }

  static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        out.add(array.getString(i));
      }
    }
    return out;
  }
}
