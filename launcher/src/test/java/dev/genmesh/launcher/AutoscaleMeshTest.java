package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genmesh up --autoscale} on one region: turbo requests no worker can take (their model is
 * not in {@code worker.models}) hold the queue above the scale-up threshold, so the region's
 * autoscaler starts a second worker process ({@code genmesh worker}, a separate JVM); once it is
 * ready, a burst of requests is shared by the workers; the placeholders are cancelled, and the quiet
 * that follows drains the pool back to the minimum, the drained processes exit by themselves, and
 * every request of the burst completes.
 */
class AutoscaleMeshTest {
  private static final long WAIT_S = 180;
  /** Each look asks the mesh about every request of the burst. */
  private static final long POLL_MS = 200;
  private static final String REGION = "us-west";
  /** The workers load only this model... */
  private static final String SERVED = "genmesh-tiny";
  /** ...so turbo requests for this one wait: each is queue depth the autoscaler sees and no worker takes. */
  private static final String UNSERVED = "genmesh-small";
  /** Above the turbo-depth threshold (2) on their own. */
  private static final int PLACEHOLDERS = 3;

  @TempDir Path dataDir;
  private Mesh mesh;
  private Vertx vertx;

  @AfterEach
  void stop() {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void aBurstAddsWorkersThatTakeWorkAndTheQuietDrainsThemWithoutLosingARequest() throws Exception {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "300",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500",
        "GENMESH_AUTOSCALING__EVALUATION_INTERVAL_MS", "200",
        "GENMESH_AUTOSCALING__COOLDOWN_UP_MS", "1000",
        "GENMESH_AUTOSCALING__COOLDOWN_DOWN_MS", "1000",
        "GENMESH_AUTOSCALING__SCALE_UP__TURBO_DEPTH__THRESHOLD", "2",
        "GENMESH_AUTOSCALING__SCALE_UP__TURBO_DEPTH__FOR_MS", "0",
        "GENMESH_AUTOSCALING__SCALE_DOWN__QUEUES_LOW__FOR_MS", "1000"));
    env.put("GENMESH_AUTOSCALING__SCALE_DOWN__GPU_IDLE__FOR_MS", "1000");
    env.put("GENMESH_WORKER__MODELS", "[" + SERVED + "]");
    GenmeshConfig loaded = ConfigLoader.load(null, env);
    GenmeshConfig config = loaded.withRegions(Map.of(REGION, loaded.region(REGION)));
    mesh = Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1", true, ConfigLoader.tree(null, env)),
        step -> {});
    vertx = Vertx.vertx();
    WebClient http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(mesh.edgePort()));

    Waits.eventually(WAIT_S, POLL_MS, () -> mesh.scaledWorkerPids().size() == 1, "the pool at its minimum of one worker process");
    Map<String, Long> pids = new HashMap<>(mesh.scaledWorkerPids());
    String regionApi = mesh.config().region(REGION).effectiveApiUrl();

    List<String> placeholders = new ArrayList<>();
    for (int i = 0; i < PLACEHOLDERS; i++) {
      placeholders.add(submit(http, new JsonObject().put("prompt", "a placeholder " + i).put("model", UNSERVED)
          .put("steps", 6).put("tier", "turbo")));
    }
    // The burst is held until a second worker serves: it is the work they share.
    Waits.eventually(WAIT_S, POLL_MS, () -> healthyWorkers(http, regionApi).size() >= 2,
        "a second worker process started and ready (healthy in the region)");
    assertThat(placeholders).as("nothing took the placeholders")
        .allSatisfy(id -> assertThat(view(http, id).getString("status")).isEqualTo("queued"));

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      ids.add(submit(http, new JsonObject().put("prompt", "a lighthouse at dusk " + i).put("seed", i).put("steps", 6)
          .put("tier", "turbo")));
    }
    for (String id : placeholders) {
      HttpResponse<Buffer> cancelled = Waits.await(WAIT_S, http.delete("/v1/generations/" + id).send());
      assertThat(cancelled.statusCode()).as("cancel %s: %s", id, cancelled.bodyAsString()).isEqualTo(200);
    }

    Set<String> servedBy = new HashSet<>();
    Waits.eventually(WAIT_S, POLL_MS, () -> {
      pids.putAll(mesh.scaledWorkerPids());
      servedBy.clear();
      boolean allDone = true;
      for (String id : ids) {
        JsonObject view = view(http, id);
        allDone &= "completed".equals(view.getString("status"));
        if (view.getString("worker") != null) {
          servedBy.add(view.getString("worker"));
        }
      }
      return allDone;
    }, "every request of the burst completed");
    assertThat(servedBy).as("workers added for the burst took work").hasSizeGreaterThanOrEqualTo(2);
    assertThat(pids.keySet()).as("the workers that served are the autoscaled processes").containsAll(servedBy);
    assertThat(Set.copyOf(pids.values())).as("one process per worker, none of them this JVM")
        .hasSize(pids.size()).doesNotContain(ProcessHandle.current().pid());
    for (String worker : pids.keySet()) {
      assertThat(dataDir.resolve("workers").resolve(worker + ".log")).as("output of " + worker).exists();
    }

    Waits.eventually(WAIT_S, POLL_MS, () -> mesh.scaledWorkers().size() == 1, "the quiet drained the pool back to one worker");
    String remaining = mesh.scaledWorkers().get(0);
    Map<String, Long> drained = new HashMap<>(pids);
    drained.remove(remaining);
    assertThat(drained).as("drained workers").isNotEmpty();
    Waits.eventually(WAIT_S, POLL_MS, () -> drained.values().stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)),
        "the drained worker processes exited");
    assertThat(ProcessHandle.of(pids.get(remaining)).map(ProcessHandle::isAlive)).as("the last worker runs on")
        .contains(true);
    for (String id : ids) {
      assertThat(view(http, id).getString("status")).isEqualTo("completed");
    }

    mesh.close();
    mesh = null;
    assertThat(ProcessHandle.of(pids.get(remaining)).map(ProcessHandle::isAlive).orElse(false))
        .as("closing the mesh stops its worker processes").isFalse();
  }

  private static String submit(WebClient http, JsonObject request) throws Exception {
    HttpResponse<Buffer> accepted = Waits.await(WAIT_S, http.post("/v1/generations").sendJsonObject(request));
    assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
    return accepted.bodyAsJsonObject().getString("id");
  }

  /** The workers the region judges healthy (heartbeating, ready, live): they take work. */
  private static List<String> healthyWorkers(WebClient http, String regionApi) {
    try {
      JsonArray workers = Waits.await(WAIT_S, http.getAbs(regionApi + "/regional/v1/workers").send())
          .bodyAsJsonObject().getJsonArray("workers");
      List<String> healthy = new ArrayList<>();
      for (int i = 0; i < workers.size(); i++) {
        if ("healthy".equals(workers.getJsonObject(i).getString("state"))) {
          healthy.add(workers.getJsonObject(i).getString("worker_id"));
        }
      }
      return healthy;
    } catch (Exception e) {
      throw new AssertionError("workers of " + regionApi + " not readable", e);
    }
  }

  private static JsonObject view(WebClient http, String id) {
    try {
      return Waits.await(WAIT_S, http.get("/v1/generations/" + id).send()).bodyAsJsonObject();
    } catch (Exception e) {
      throw new AssertionError("status of " + id + " not readable", e);
    }
  }
}
