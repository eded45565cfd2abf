package dev.genmesh.autoscaler;

import io.vertx.core.json.JsonObject;

/**
 * The region lost a worker (unhealthy, gone, breaker open) and asks for another in the same
 * pool: the body of {@code Addresses.replacements(region)}, {@code {region, worker_id, gpu_class,
 * reason}}. The policy treats it as an immediate need for one worker, within the constraints.
 */
public record Replacement(String region, String workerId, String gpuClass, String reason) {

  public static Replacement fromJson(JsonObject json) {
    return new Replacement(json.getString("region"), json.getString("worker_id"), json.getString("gpu_class"),
        json.getString("reason", ""));
  }

  public JsonObject toJson() {
    return new JsonObject().put("region", region).put("worker_id", workerId).put("gpu_class", gpuClass)
        .put("reason", reason);
  }
}
