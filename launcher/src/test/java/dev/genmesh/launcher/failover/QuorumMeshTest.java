package dev.genmesh.launcher.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.failover.FailoverParticipant;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.protocol.failover.RegionDecision.State;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.embedded.FaultProxy;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Region failure detection with the real parts, in one JVM: three region nodes (each its own
 * Vert.x, PostgreSQL database and Redis prefix) and the edge, on loopback. Every link into and out
 * of us-west goes through a fault proxy of its own, so a test cuts one observer's link or all of
 * them. Small timings: detect after 4 s, fence after 2 s, fail back after 5 s, polls every 250 ms.
 */
@ExtendWith(StoresExtension.class)
class QuorumMeshTest {
  static final String WEST = "us-west";
  static final String EAST = "us-east";
  static final String EU = "eu-west";
  static final String EDGE = FailoverConfig.EDGE;
  static final long DETECT_MS = 4000;
  static final long FAILBACK_MS = 5000;
  static final long FENCE_MS = 2000;
  static final long POLL_MS = 250;
  /** Generous: two cores shared with other builds answer a loopback call in seconds at worst. */
  static final long POLL_TIMEOUT_MS = 1500;

  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<FaultProxy> proxies = new ArrayList<>();
  /** observer → its proxy to us-west; "to:" + participant → us-west's proxy to it. */
  private final Map<String, FaultProxy> links = new HashMap<>();
  private final Map<String, RegionNodeVerticle> nodes = new LinkedHashMap<>();
  private final List<RegionDecision> decisionsOnTheEdgeBus = new CopyOnWriteArrayList<>();
  private final PrometheusMeterRegistry edgeMeters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private EdgeVerticle edge;
  private WebClient http;
  private int edgePort;

  @AfterEach
  void stop() throws Exception {
    for (Vertx vertx : vertxes) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    proxies.forEach(FaultProxy::close);
  }

  @Test
  void oneCutLinkDecidesNothingAnIsolatedRegionFencesThenIsDeclaredDownAndFailsBackWhenHealed(TestStores stores)
      throws Exception {
    startMesh(stores);
    Waits.eventually(20, () -> nodes.values().stream().noneMatch(n -> n.failover().fenced()), "every region unfenced");
    Waits.eventually(20, this::edgeSeesWestHealthy, "the edge to see us-west healthy");
    String before = submit();
    assertThat(before).startsWith("usw_");

    // One observer's bad link: us-east suspects us-west, nobody decides anything, us-west keeps dispatching.
    links.get(EAST).down();
    Waits.eventually(20, () -> "suspect".equals(opinion(EAST, WEST)), "us-east to suspect us-west");
    Thread.sleep(2 * DETECT_MS);
    assertThat(opinion(EAST, WEST)).isEqualTo("suspect");
    assertThat(opinion(EU, WEST)).isEqualTo("ok");
    assertThat(decisionsOnTheEdgeBus).isEmpty();
    for (RegionNodeVerticle node : nodes.values()) {
      assertThat(node.failover().history()).as("decisions of %s", node.regionName()).isEmpty();
      assertThat(node.failover().state(WEST)).isEqualTo(State.UP);
    }
    assertThat(nodes.get(WEST).failover().fenced()).as("two of three observers still hold us-west ok").isFalse();
    links.get(EAST).up();
    Waits.eventually(20, () -> "ok".equals(opinion(EAST, WEST)), "us-east to see us-west again");

    // us-west cut off from everyone: it fences itself first, then everyone declares it DOWN, adopted by us-east.
    Instant cut = Instant.now();
    links.values().forEach(FaultProxy::down);
    Instant fencedAt = firstInstant(() -> nodes.get(WEST).failover().fenced(), "us-west to fence itself");
    String refusal = Waits.failure(claimInWest()).getMessage();
    assertThat(refusal).as("a fenced region dispatches nothing, though %s waits", before).contains("fenced");
    Waits.eventually(20, () -> !decisionsOnTheEdgeBus.isEmpty(), "a decision on the edge's event bus");
    RegionDecision down = decisionsOnTheEdgeBus.get(0);
    assertThat(down.region()).isEqualTo(WEST);
    assertThat(down.state()).isEqualTo(State.DOWN);
    assertThat(down.adopter()).isEqualTo(EAST);
    assertThat(down.agreeing()).hasSizeGreaterThanOrEqualTo(2);
    assertThat(down.observers()).containsExactly(EDGE, EU, EAST);
    assertThat(down.detectionMs()).isGreaterThanOrEqualTo(DETECT_MS);
    assertThat(down.decidedAt()).isAfterOrEqualTo(cut.plusMillis(DETECT_MS));
    assertThat(fencedAt).as("fenced before anyone may adopt").isBefore(down.decidedAt().minusMillis(FailoverConfig.MIN_FENCE_MARGIN_MS / 2));
    for (String region : List.of(EAST, EU)) {
      FailoverParticipant participant = nodes.get(region).failover();
      Waits.eventually(20, () -> participant.state(WEST) == State.DOWN, region + " to decide us-west down too");
      assertThat(participant.history().get(0).adopter()).isEqualTo(EAST);
    }
    assertThat(edgeMeters.find("genmesh.failover.decisions").tags("region", WEST, "state", "down").counter().count())
        .isEqualTo(1.0);
    JsonObject decisions = get(edgePort, "/failover/decisions");
    assertThat(decisions.getJsonObject("regions").getJsonObject(WEST).getString("serving")).isEqualTo(EAST);
    assertThat(decisions.getJsonArray("history").getJsonObject(0).getString("adopter")).isEqualTo(EAST);
    assertThat(get(nodes.get(WEST).actualPort(), "/health/ready").getString("status")).isEqualTo("DOWN");

    // Healed: us-west stays fenced (it is held DOWN) and gets no submits until a majority saw it healthy for
    // failback_after; then it is UP, unfenced, dispatches again, and new submits return to it.
    Instant healed = Instant.now();
    links.values().forEach(FaultProxy::up);
    Waits.eventually(20, () -> "ok".equals(opinion(EDGE, WEST)) && "ok".equals(opinion(EU, WEST)), "us-west seen again");
    assertThat(edge.failover().state(WEST)).isEqualTo(State.DOWN);
    Waits.eventually(20, () -> String.valueOf(nodes.get(WEST).failover().fenceReason()).contains("DOWN"),
        "us-west, reached by a majority again, to stay fenced as held DOWN");
    assertThat(edge.failover().state(WEST)).isEqualTo(State.DOWN);
    assertThat(Waits.failure(claimInWest()).getMessage()).contains("fenced");
    assertThat(submit()).as("a submit while us-west is still DOWN goes elsewhere").startsWith("use_");
    Waits.eventually(30, () -> decisionsOnTheEdgeBus.size() == 2, "the UP decision");
    RegionDecision up = decisionsOnTheEdgeBus.get(1);
    assertThat(up.state()).isEqualTo(State.UP);
    assertThat(up.decidedAt()).isAfterOrEqualTo(healed.plusMillis(FAILBACK_MS));
    Waits.eventually(20, () -> !nodes.get(WEST).failover().fenced(), "us-west to unfence once UP");
    assertThat(Assignment.fromJson(Waits.await(claimInWest()).body()).requestId()).as("dispatching again").isEqualTo(before);
    Waits.eventually(20, this::edgeSeesWestHealthy, "the edge's readiness polls to see us-west healthy");
    assertThat(submit()).as("new submits return to us-west").startsWith("usw_");
    assertThat(get(edgePort, "/failover/decisions").getJsonObject("regions").getJsonObject(WEST).getString("serving"))
        .isEqualTo(WEST);
  }

  private void startMesh(TestStores stores) throws Exception {
    GenmeshConfig base = ConfigLoader.load(null, stores.imagesEnv(stores.createBucket()));
    Map<String, Integer> ports = new HashMap<>();
    Map<String, RegionConfig> regions = new LinkedHashMap<>();
    for (String name : List.of(WEST, EAST, EU)) {
      int port = EmbeddedStores.freePort();
      ports.put(name, port);
      RegionConfig region = base.region(name);
      regions.put(name, region.withHttpPort(port).withApiUrl("").withStores(
          new RegionConfig.PostgresConfig("127.0.0.1", stores.postgresPort(), stores.createDatabase(), "postgres", "", 4),
          new RegionConfig.RedisConfig(stores.redisUrl(), TestStores.newKeyPrefix())));
    }
    edgePort = EmbeddedStores.freePort();
    FailoverConfig failover = base.failover().withEnabled(true)
        .withTimings(DETECT_MS, FAILBACK_MS, FENCE_MS, 60_000, POLL_MS, POLL_TIMEOUT_MS)
        .withEdgeUrl("http://127.0.0.1:" + edgePort);
    GenmeshConfig mesh = base.withRegions(regions).withFailover(failover).withEdge(base.edge().withPort(edgePort));
    for (String observer : List.of(EDGE, EAST, EU)) {
      FaultProxy intoWest = proxy(ports.get(WEST));
      links.put(observer, intoWest);
      int target = observer.equals(EDGE) ? edgePort : ports.get(observer);
      links.put("to:" + observer, proxy(target));
    }
    for (String name : List.of(WEST, EAST, EU)) {
      GenmeshConfig own = name.equals(WEST) ? westView(mesh) : viewOfWestThrough(mesh, links.get(name));
      RegionNodeVerticle node = new RegionNodeVerticle(own, name, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
          null, Clock.systemUTC()).withLocalSafety(new ReferenceSafety());
      Vertx vertx = Vertx.vertx();
      vertxes.add(vertx);
      Waits.await(60, vertx.deployVerticle(node));
      nodes.put(name, node);
    }
    Vertx edgeVertx = Vertx.vertx();
    vertxes.add(edgeVertx);
    edgeVertx.eventBus().<JsonObject>consumer(RegionDecision.ADDRESS,
        message -> decisionsOnTheEdgeBus.add(RegionDecision.fromJson(message.body())));
    edge = new EdgeVerticle(viewOfWestThrough(mesh, links.get(EDGE)), edgeMeters);
    Waits.await(60, edgeVertx.deployVerticle(edge));
    Vertx client = Vertx.vertx();
    vertxes.add(client);
    http = WebClient.create(client);
  }

  /** A worker's claim in us-west, on its region's event bus. */
  private io.vertx.core.Future<io.vertx.core.eventbus.Message<JsonObject>> claimInWest() {
    return vertxes.get(0).eventBus().request(Addresses.claim(WEST),
        new Claim("usw-quorum-worker", "A10G", 24_000, List.of("genmesh-tiny")).toJson());
  }

  private FaultProxy proxy(int port) {
    FaultProxy proxy = FaultProxy.start("127.0.0.1", port);
    proxies.add(proxy);
    return proxy;
  }

  /** The mesh as one observer sees it: us-west behind that observer's own proxy. */
  private static GenmeshConfig viewOfWestThrough(GenmeshConfig mesh, FaultProxy proxy) {
    Map<String, RegionConfig> regions = new LinkedHashMap<>(mesh.regions());
    regions.put(WEST, mesh.region(WEST).withApiUrl(proxy.url()));
    return mesh.withRegions(regions);
  }

  /** The mesh as us-west sees it: every other participant behind a proxy of us-west's own. */
  private GenmeshConfig westView(GenmeshConfig mesh) {
    Map<String, RegionConfig> regions = new LinkedHashMap<>(mesh.regions());
    for (String other : List.of(EAST, EU)) {
      regions.put(other, mesh.region(other).withApiUrl(links.get("to:" + other).url()));
    }
    return mesh.withRegions(regions).withFailover(mesh.failover().withEdgeUrl(links.get("to:" + EDGE).url()));
  }

  private boolean edgeSeesWestHealthy() {
    return "healthy".equals(get(edgePort, "/health/ready").getJsonObject("regions").getJsonObject(WEST).getString("status"));
  }

  private String opinion(String observer, String region) {
    int port = observer.equals(EDGE) ? edgePort : nodes.get(observer).actualPort();
    JsonObject of = get(port, "/failover/opinions").getJsonObject("opinions").getJsonObject(region);
    return of == null ? null : of.getString("state");
  }

  private JsonObject get(int port, String path) {
    return Waits.await(http.get(port, "127.0.0.1", path).send()).bodyAsJsonObject();
  }

  private String submit() {
    var response = Waits.await(http.post(edgePort, "127.0.0.1", "/v1/generations")
        .sendJsonObject(new JsonObject().put("prompt", "a lighthouse at dusk").put("tier", "fast").put("steps", 4)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  /** The first moment (within 10 ms) a condition holds, waiting up to 20 s. */
  private static Instant firstInstant(java.util.function.BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return Instant.now();
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("timed out waiting for " + what);
  }
}
