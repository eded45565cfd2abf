package dev.genmesh.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Messages between a region's workers and its region node, as JSON on the event bus. */
public final class WorkerMessages {
  private WorkerMessages() {}

  /**
   * A worker asks for work that fits it.
   *
   * @param batchWith null for an ordinary claim; otherwise the worker already holds a request and
   *     asks only for one it can run in the same TensorFlow batch (see {@link BatchHint})
   * @param waitMs how long the region may hold an ordinary claim that finds nothing, answering it
   *     as soon as work arrives (a long poll); 0: answer at once. A claim answered after waiting
   *     asks for an acknowledgement: the worker replies to the assignment (region-node/API.md,
   *     "Claims that wait")
   */
  public record Claim(String workerId, String gpuClass, long freeVramMb, List<String> models, BatchHint batchWith,
      long waitMs) {
    public Claim(String workerId, String gpuClass, long freeVramMb, List<String> models) {
      this(workerId, gpuClass, freeVramMb, models, null, 0);
    }

    public Claim(String workerId, String gpuClass, long freeVramMb, List<String> models, BatchHint batchWith) {
      this(workerId, gpuClass, freeVramMb, models, batchWith, 0);
    }

    /** The same claim for other models (the region narrows a claim by its circuit breakers). */
    public Claim withModels(List<String> otherModels) {
      return new Claim(workerId, gpuClass, freeVramMb, otherModels, batchWith, waitMs);
    }

    public JsonObject toJson() {
      JsonObject json = new JsonObject()
          .put("worker_id", workerId)
          .put("gpu_class", gpuClass)
          .put("free_vram_mb", freeVramMb)
          .put("models", new JsonArray(new ArrayList<>(models)));
      if (batchWith != null) {
        json.put("batch_with", batchWith.toJson());
      }
      if (waitMs > 0) {
        json.put("wait_ms", waitMs);
      }
      return json;
    }

    public static Claim fromJson(JsonObject json) {
      JsonObject hint = json.getJsonObject("batch_with");
      return new Claim(
          json.getString("worker_id"),
          json.getString("gpu_class", "cpu"),
          json.getLong("free_vram_mb", 0L),
          strings(json.getJsonArray("models")),
          hint == null ? null : BatchHint.fromJson(hint),
          Math.max(0, json.getLong("wait_ms", 0L)));
    }
  }

  /**
   * What a request must share with the ones a worker already holds to join their batch: one
   * TensorFlow call per step runs them all, so model, size, step count, guidance, adapter and
   * conditioning (presence and scale) must be equal. Prompts, seeds, batch sizes and control images
   * may differ. {@code maxImages} caps the request's {@code batch_size}.
   */
  public record BatchHint(String model, int width, int height, int steps, double guidance, String adapter,
      double adapterScale, boolean control, double controlScale, int maxImages) {

    /** The hint for joining {@code spec}'s batch with room for {@code maxImages} more images. */
    public static BatchHint of(GenerationSpec spec, int maxImages) {
      return new BatchHint(spec.model(), spec.width(), spec.height(), spec.steps(), spec.guidance(), spec.adapter(),
          spec.hasAdapter() ? spec.adapterScale() : 0, spec.hasControlImage(),
          spec.hasControlImage() ? spec.controlScale() : 0, maxImages);
    }

    /**
     * What two requests that can share a batch have equal, as one string (the region keeps it
     * with each queued id and claims only ids with the worker's key).
     */
    public String key() {
      return model + '|' + width + 'x' + height + '|' + steps + '|' + GenerationSpec.decimal(guidance) + '|'
          + (adapter == null ? "" : adapter) + '|' + GenerationSpec.decimal(adapterScale) + '|' + control + '|'
          + GenerationSpec.decimal(controlScale);
    }

    /** The batch key of a spec (see {@link #key()}). */
    public static String keyOf(GenerationSpec spec) {
      return of(spec, spec.batchSize()).key();
    }

    /** True if {@code spec} can run in the same batch and fits the room left. */
    public boolean matches(GenerationSpec spec) {
      BatchHint other = of(spec, maxImages);
      return other.equals(this) && spec.batchSize() <= maxImages;
    }

    public JsonObject toJson() {
      return new JsonObject()
          .put("model", model)
          .put("width", width)
          .put("height", height)
          .put("steps", steps)
          .put("guidance", guidance)
          .put("adapter", adapter)
          .put("adapter_scale", adapterScale)
          .put("control", control)
          .put("control_scale", controlScale)
          .put("max_images", maxImages);
    }

    public static BatchHint fromJson(JsonObject json) {
      return new BatchHint(
          json.getString("model"),
          json.getInteger("width"),
          json.getInteger("height"),
          json.getInteger("steps"),
          json.getDouble("guidance"),
          json.getString("adapter"),
          json.getDouble("adapter_scale", 0.0),
          json.getBoolean("control", false),
          json.getDouble("control_scale", 0.0),
          json.getInteger("max_images", 1));
    }
  }

  /**
   * The answer to a claim: one request, its attempt number and the lease the worker holds.
   *
   * @param traceParent the W3C {@code traceparent} of the submit that created the request (null:
   *     not traced); the worker's spans of this attempt join that trace
   */
  public record Assignment(String requestId, int attempt, long leaseMs, GenerationSpec spec, String traceParent) {
    public Assignment(String requestId, int attempt, long leaseMs, GenerationSpec spec) {
      this(requestId, attempt, leaseMs, spec, null);
    }

    public JsonObject toJson() {
      JsonObject json = new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("lease_ms", leaseMs)
          .put("spec", spec.toJson());
      if (traceParent != null) {
        json.put("trace_parent", traceParent);
      }
      return json;
    }

    public static Assignment fromJson(JsonObject json) {
      return new Assignment(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getLong("lease_ms"),
          GenerationSpec.fromJson(json.getJsonObject("spec")),
          json.getString("trace_parent"));
    }
  }

  /**
   * One denoising step done.
   *
   * @param preview null, or a small PNG (base64) of the current latent, decoded, when the spec
   *     asked for previews ({@code preview_every}) and this step is one of them
   */
  public record Step(String requestId, int attempt, String workerId, int step, int total, double stepMs,
      String preview) {
    public Step(String requestId, int attempt, String workerId, int step, int total, double stepMs) {
      this(requestId, attempt, workerId, step, total, stepMs, null);
    }

    public JsonObject toJson() {
      JsonObject json = new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("worker_id", workerId)
          .put("step", step)
          .put("total", total)
          .put("step_ms", stepMs);
      if (preview != null) {
        json.put("preview", preview);
      }
      return json;
    }

    public static Step fromJson(JsonObject json) {
      return new Step(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getString("worker_id"),
          json.getInteger("step"),
          json.getInteger("total"),
          json.getDouble("step_ms", 0.0),
          json.getString("preview"));
    }
  }

  /**
   * The finished images of one attempt, already uploaded by the worker to its region's object
   * store under attempt-scoped keys: the region records the keys, never the bytes.
   *
   * @param gpuMs this request's share of the GPU time of its batch (the batch's time over its
   *     requests): what fast/turbo quotas meter (docs/security.md); {@code total_ms} when absent
   */
  public record Result(String requestId, int attempt, String workerId, List<StoredImage> images, double totalMs,
      double gpuMs) {
    public Result {
      images = List.copyOf(images);
    }

    public Result(String requestId, int attempt, String workerId, List<StoredImage> images, double totalMs) {
      this(requestId, attempt, workerId, images, totalMs, totalMs);
    }

    public JsonObject toJson() {
      return new JsonObject()
          .put("request_id", requestId)
          .put("attempt", attempt)
          .put("worker_id", workerId)
          .put("images", StoredImage.toJson(images))
          .put("total_ms", totalMs)
          .put("gpu_ms", gpuMs);
    }

    /** @throws IllegalArgumentException if an image entry is not an object */
    public static Result fromJson(JsonObject json) {
      return new Result(
          json.getString("request_id"),
          json.getInteger("attempt"),
          json.getString("worker_id"),
          StoredImage.fromJson(json.getJsonArray("images")),
          json.getDouble("total_ms", 0.0),
          json.getDouble("gpu_ms", json.getDouble("total_ms", 0.0)));
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

  /**
   * A worker's periodic report; it also renews the leases of the requests it runs.
   *
   * @param modelVersions loaded model name → version
   * @param ready false until the worker's models are loaded and a warm-up run passed (and while it
   *     restarts its TensorFlow session): it claims nothing then
   * @param live false once the worker gave up after persistent device errors (or TensorFlow does
   *     not see the device it is configured for): it claims nothing and should be replaced
   * @param maxBatchImages images it runs in one TensorFlow batch now (lowered after an OOM)
   * @param failedModels models the worker serves but could not load: it still claims them, and a
   *     request for one makes it try again (or fail the request as {@code model_load_failed})
   * @param httpPort the port of the worker's {@code /health/*} and {@code /metrics}; 0 = unknown
   */
  public record Heartbeat(
      String workerId,
      String region,
      String gpuClass,
      long vramTotalMb,
      long vramFreeMb,
      List<String> loadedModels,
      double utilisation,
      List<String> activeRequests,
      long sentAtMs,
      Map<String, String> modelVersions,
      boolean ready,
      boolean live,
      int maxBatchImages,
      List<String> failedModels,
      int httpPort,
      String nodeId,
      boolean draining) {

    public Heartbeat(String workerId, String region, String gpuClass, long vramTotalMb, long vramFreeMb,
        List<String> loadedModels, double utilisation, List<String> activeRequests, long sentAtMs) {
      this(workerId, region, gpuClass, vramTotalMb, vramFreeMb, loadedModels, utilisation, activeRequests, sentAtMs,
          Map.of(), true, true, 1);
    }

    /** Without failed models and HTTP port (an older worker), outside a cluster, not draining. */
    public Heartbeat(String workerId, String region, String gpuClass, long vramTotalMb, long vramFreeMb,
        List<String> loadedModels, double utilisation, List<String> activeRequests, long sentAtMs,
        Map<String, String> modelVersions, boolean ready, boolean live, int maxBatchImages) {
      this(workerId, region, gpuClass, vramTotalMb, vramFreeMb, loadedModels, utilisation, activeRequests, sentAtMs,
          modelVersions, ready, live, maxBatchImages, List.of(), 0, null, false);
    }

    /** Outside a cluster (no node id), not draining. */
    public Heartbeat(String workerId, String region, String gpuClass, long vramTotalMb, long vramFreeMb,
        List<String> loadedModels, double utilisation, List<String> activeRequests, long sentAtMs,
        Map<String, String> modelVersions, boolean ready, boolean live, int maxBatchImages, List<String> failedModels,
        int httpPort) {
      this(workerId, region, gpuClass, vramTotalMb, vramFreeMb, loadedModels, utilisation, activeRequests, sentAtMs,
          modelVersions, ready, live, maxBatchImages, failedModels, httpPort, null, false);
    }

    /** Without failed models and HTTP port. */
    public Heartbeat(String workerId, String region, String gpuClass, long vramTotalMb, long vramFreeMb,
        List<String> loadedModels, double utilisation, List<String> activeRequests, long sentAtMs,
        Map<String, String> modelVersions, boolean ready, boolean live, int maxBatchImages, String nodeId,
        boolean draining) {
      this(workerId, region, gpuClass, vramTotalMb, vramFreeMb, loadedModels, utilisation, activeRequests, sentAtMs,
          modelVersions, ready, live, maxBatchImages, List.of(), 0, nodeId, draining);
    }

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
          .put("sent_at_ms", sentAtMs)
          .put("model_versions", new JsonObject(new LinkedHashMap<>(modelVersions)))
          .put("ready", ready)
          .put("live", live)
          .put("max_batch_images", maxBatchImages)
          .put("failed_models", new JsonArray(new ArrayList<>(failedModels)))
          .put("http_port", httpPort)
          .put("node_id", nodeId)
          .put("draining", draining);
    }

    /**
     * A heartbeat without the newer fields (an older worker) reads as ready and live, with no
     * failed models and HTTP port 0 (unknown).
     */
    public static Heartbeat fromJson(JsonObject json) {
      Map<String, String> versions = new LinkedHashMap<>();
      JsonObject versionJson = json.getJsonObject("model_versions", new JsonObject());
      versionJson.fieldNames().forEach(name -> versions.put(name, String.valueOf(versionJson.getValue(name))));
      return new Heartbeat(
          json.getString("worker_id"),
          json.getString("region"),
          json.getString("gpu_class", "cpu"),
          json.getLong("vram_total_mb", 0L),
          json.getLong("vram_free_mb", 0L),
          strings(json.getJsonArray("loaded_models")),
          json.getDouble("utilisation", 0.0),
          strings(json.getJsonArray("active_requests")),
          json.getLong("sent_at_ms", 0L),
          versions,
          json.getBoolean("ready", true),
          json.getBoolean("live", true),
          json.getInteger("max_batch_images", 1),
          strings(json.getJsonArray("failed_models")),
          json.getInteger("http_port", 0),
          json.getString("node_id"),
          json.getBoolean("draining", false));
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
