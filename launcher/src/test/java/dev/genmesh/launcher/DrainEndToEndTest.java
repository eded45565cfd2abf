package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.inference.InferenceVerticle;
import dev.genmesh.inference.pipeline.FaultHook;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drain with the real parts (embedded stores, a region node and TF workers on one Hazelcast
 * cluster): a draining worker reports {@code draining}, claims nothing more and leaves once idle;
 * past its deadline it stops its request at a step and hands it back, and the region re-queues
 * it boosted without using a retry or counting a failure.
 */
class DrainEndToEndTest {
  private static final String REGION = "us-west";
  private static final long WAIT_S = 120;

  @TempDir Path dir;
  private EmbeddedStores stores;
  private final List<Vertx> members = new ArrayList<>();
  private final PrometheusMeterRegistry regionMeters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final String clusterName = "genmesh-drain-" + UUID.randomUUID().toString().substring(0, 8);
  private GenmeshConfig base;
  private RegionConfig region;
  private RegionNodeVerticle node;
  private WebClient http;
  private int apiPort;

  @AfterEach
  void stopAll() throws Exception {
    for (int i = members.size() - 1; i >= 0; i--) {
      members.get(i).close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    if (stores != null) {
      stores.close();
    }
  }

  @Test
  void pastItsDeadlineADrainingWorkerHandsItsRequestBackAndAnotherWorkerFinishesIt() throws Exception {
    startRegion();
    // Slow steps, so the request is still running when the drain deadline passes.
    FaultHook slow = (model, step, images) -> sleep(400);
    Vertx firstMember = member();
    InferenceVerticle first = new InferenceVerticle(base, REGION, "usw-drain-1", new SimpleMeterRegistry(),
        dir.resolve("models"), slow);
    String firstDeployment = Waits.await(WAIT_S, firstMember.deployVerticle(first));
    Waits.eventually(WAIT_S, first::ready, "the first worker warmed up");

    String id = submit(20);
    Waits.eventually(WAIT_S, () -> "generating".equals(view(id).getString("status")), "the request running on the first worker");
    int priorityBefore = view(id).getInteger("priority");

    JsonObject reply = Waits.await(WAIT_S, firstMember.eventBus().<JsonObject>request(Addresses.drain(REGION, "usw-drain-1"),
        new JsonObject().put("worker_id", "usw-drain-1").put("deadline_ms", 500))).body();
    assertThat(reply.getInteger("held")).isEqualTo(1);
    Waits.eventually(WAIT_S, () -> node.knownWorkers().stream().anyMatch(w -> w.workerId().equals("usw-drain-1")
        && w.state().wireName().equals("draining")), "the region to see the worker draining");

    // Handed back at a step: queued again, boosted, no retry used, no breaker counted it.
    Waits.eventually(WAIT_S, () -> "drained".equals(lastErrorCode(id)), "the request handed back as drained");
    JsonObject back = view(id);
    assertThat(back.getInteger("retry_count")).isZero();
    assertThat(back.getInteger("priority")).isGreaterThan(priorityBefore);
    Waits.eventually(WAIT_S, () -> !firstMember.deploymentIDs().contains(firstDeployment), "the drained worker undeployed itself");
    assertThat(regionMeters.find("genmesh.retries").tags("reason", "drained").counter().count()).isEqualTo(1.0);

    InferenceVerticle second = new InferenceVerticle(base, REGION, "usw-drain-2", new SimpleMeterRegistry(),
        dir.resolve("models"), FaultHook.NONE);
    Waits.await(WAIT_S, member().deployVerticle(second));
    Waits.eventually(WAIT_S, () -> "completed".equals(view(id).getString("status")), "the second worker to complete it");
    JsonObject done = view(id);
    assertThat(done.getString("worker")).isEqualTo("usw-drain-2");
    assertThat(done.getInteger("retry_count")).isZero();
  }

  private void startRegion() throws Exception {
    Map<String, String> env = new HashMap<>(Map.of(
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]",
        "GENMESH_WORKER__CLAIM_POLL_MS", "100",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_QUEUE__LEASE_REAP_INTERVAL_MS", "100"));
    GenmeshConfig loaded = ConfigLoader.load(null, env);
    String database = loaded.region(REGION).postgres().database();
    stores = EmbeddedStores.start(dir.resolve("stores"), List.of(database), List.of("genmesh-" + REGION), false);
    int clusterPort = EmbeddedStores.freePort();
    region = loaded.region(REGION)
        .withStores(loaded.region(REGION).postgres().withEndpoint("127.0.0.1", stores.postgresPort()),
            new RegionConfig.RedisConfig(stores.redisUrl(), "genmesh:drain:"))
        .withHttpPort(0)
        .withCluster(clusterPort, List.of("127.0.0.1:" + clusterPort + "-" + (clusterPort + 4)));
    base = loaded.withRegions(Map.of(REGION, region)).withImages(loaded.images().withStore(
        stores.objectStore().endpoint(), stores.objectStore().credentialsFile().toString()));
    Vertx member = member();
    node = new RegionNodeVerticle(base, REGION, regionMeters, null, Clock.systemUTC())
        .withLocalSafety(new ReferenceSafety());
    Waits.await(WAIT_S, member.deployVerticle(node));
    apiPort = node.actualPort();
    http = WebClient.create(member);
  }

  private String submit(int steps) throws Exception {
    GenerationSpec spec = new GenerationSpec("a slow lighthouse", "", "genmesh-tiny", Tier.FAST, 256, 256, steps, 5L,
        7.5, 1);
    HttpResponse<Buffer> accepted = Waits.await(WAIT_S, http.post(apiPort, "127.0.0.1", "/regional/v1/generations")
        .sendJsonObject(spec.toJson()));
    assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
    return accepted.bodyAsJsonObject().getString("id");
  }

  private String lastErrorCode(String id) {
    JsonObject error = view(id).getJsonObject("last_error");
    return error == null ? null : error.getString("code");
  }

  private Vertx member() throws Exception {
    Vertx vertx = Waits.await(WAIT_S, TestCluster.join(region, clusterName));
    members.add(vertx);
    return vertx;
  }

  private JsonObject view(String id) {
    try {
      return Waits.await(WAIT_S, http.get(apiPort, "127.0.0.1", "/regional/v1/generations/" + id).send()).bodyAsJsonObject();
    } catch (Exception e) {
      throw new AssertionError("status of " + id + " not readable", e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
