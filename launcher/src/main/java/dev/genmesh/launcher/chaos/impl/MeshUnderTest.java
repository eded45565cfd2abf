package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The mesh an experiment runs against: its edge (one key per load user), and its chaos control API
 * when there is one ({@code genmesh up --chaos}; docs/chaos.md says what a deployment offers instead).
 */
public final class MeshUnderTest {
  /** A region's kill waits for its processes to end, its start for its node to answer (minutes on a loaded machine). */
  public static final java.time.Duration REGION_CALL = java.time.Duration.ofMinutes(5);
  private final ChaosHttp edge;
  private final List<String> userKeys;
  private final ChaosHttp control;
  private final Map<String, ChaosHttp> regions = new ConcurrentHashMap<>();

  /**
   * @param userKeys one API key per load user; a null entry is an anonymous caller
   * @param control the control API with its token, or null
   */
  public MeshUnderTest(ChaosHttp edge, List<String> userKeys, ChaosHttp control) {
    this.edge = edge;
    this.userKeys = userKeys;
    this.control = control;
  }

  public ChaosHttp edge() {
    return edge;
  }

  /** The edge as load user {@code i} (round robin over the keys). */
  public ChaosHttp user(int i) {
    return edge.as(userKeys.get(Math.floorMod(i, userKeys.size())));
  }

  public int users() {
    return userKeys.size();
  }

  public boolean controllable() {
    return control != null;
  }

  /** {@code GET /chaos/targets}: regions, workers, redis, proxies, max_attempts. */
  public JsonObject targets() {
    return ok(requireControl().get("/chaos/targets"), "list the targets");
  }

  /** Worker id → pid of the mesh's worker processes now. */
  public Map<String, Long> workers() {
    Map<String, Long> workers = new LinkedHashMap<>();
    targets().getJsonObject("workers").forEach(e -> workers.put(e.getKey(), ((JsonObject) e.getValue()).getLong("pid")));
    return workers;
  }

  public JsonObject proxy(String name, long delayMs, boolean down) {
    return ok(requireControl().post("/chaos/proxies/" + name, new JsonObject().put("delay_ms", delayMs).put("down", down)),
        "set proxy " + name);
  }

  public JsonObject signalWorker(String workerId, String signal) {
    return ok(requireControl().post("/chaos/workers/" + workerId + "/signal", new JsonObject().put("signal", signal)),
        "send " + signal + " to " + workerId);
  }

  public JsonObject killRedisMaster() {
    return ok(requireControl().post("/chaos/redis/kill-master", new JsonObject()), "kill the Redis master");
  }

  public JsonObject restartRedis() {
    return ok(requireControl().post("/chaos/redis/restart", new JsonObject()), "restart the killed Redis");
  }

  /** Corrupts {@code model}'s files (registries and the workers' cache), or restores them. */
  public JsonObject corruptModel(String model, boolean corrupt) {
    return ok(requireControl().post("/chaos/models/" + model, new JsonObject().put("corrupt", corrupt)),
        (corrupt ? "corrupt" : "restore") + " the files of " + model);
  }

  /** SIGKILLs every process of {@code region} ({@code genmesh up --region-processes}); what was killed. */
  public JsonObject killRegion(String region) {
    return ok(requireControl().post("/chaos/regions/" + region + "/kill", new JsonObject(), REGION_CALL), "kill region "
        + region);
  }

  /** Starts {@code region}'s processes again on its data; returns once its node answers. */
  public JsonObject startRegion(String region) {
    return ok(requireControl().post("/chaos/regions/" + region + "/start", new JsonObject(), REGION_CALL), "start region "
        + region);
  }

  /** The names of the regions the control API lists. */
  public java.util.Set<String> regionNames() {
    return targets().getJsonObject("regions").fieldNames();
  }

  /** The regional API of {@code region} (for a request's stored events), when the control names it. */
  public ChaosHttp region(String region) {
    if (!controllable()) {
      return null;
    }
    return regions.computeIfAbsent(region, name -> {
      JsonObject known = targets().getJsonObject("regions").getJsonObject(name);
      return known == null ? null : new ChaosHttp(known.getString("url"), null);
    });
  }

  /** The retries bound: at most this many attempts per request (queue.max_retries + 1). */
  public int maxAttempts() {
    return controllable() ? targets().getInteger("max_attempts", 4) : 4;
  }

  public boolean edgeReady() {
    return edge.get("/health/ready").status() == 200;
  }

  private ChaosHttp requireControl() {
    if (control == null) {
      throw new IllegalStateException("this experiment injects its fault through the chaos control API: start the mesh"
          + " with 'genmesh up --chaos' (docs/chaos.md), or give --control URL --control-token T");
    }
    return control;
  }

  private static JsonObject ok(ChaosHttp.Answer answer, String what) {
    if (answer.status() != 200) {
      throw new IllegalStateException("could not " + what + ": HTTP " + answer.status() + " " + answer.body());
    }
    return answer.json();
  }
}
