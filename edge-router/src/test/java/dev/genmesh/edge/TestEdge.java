package dev.genmesh.edge;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.EdgeConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.testkit.Waits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A real edge on loopback in front of three {@link FakeRegion}s (us-west 20 ms, us-east 70 ms,
 * eu-west 140 ms), with its readiness polled once at start: afterwards only submits can change
 * what the edge believes about a region. It owns its Vert.x instance. Blocking helpers for the
 * test thread.
 */
final class TestEdge {
  static final long AWAIT_S = 10;

  final Vertx vertx;
  final FakeRegion usWest;
  final FakeRegion usEast;
  final FakeRegion euWest;
  final List<FakeRegion> fakes;
  final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final WebClient http;
  final int port;

  /** @param tweak changes the test edge's config (the defaults' with port 0, 5 s region timeout, polled once) */
  TestEdge(UnaryOperator<EdgeConfig> tweak) {
    this(tweak, UnaryOperator.identity());
  }

  /** @param configTweak changes the whole config last (failover settings, for one) */
  TestEdge(UnaryOperator<EdgeConfig> tweak, UnaryOperator<GenmeshConfig> configTweak) {
    this.vertx = Vertx.vertx();
    usWest = Waits.await(AWAIT_S, new FakeRegion(vertx, "us-west", "usw").start());
    usEast = Waits.await(AWAIT_S, new FakeRegion(vertx, "us-east", "use").start());
    euWest = Waits.await(AWAIT_S, new FakeRegion(vertx, "eu-west", "euw").start());
    fakes = List.of(usWest, usEast, euWest);
    GenmeshConfig defaults = ConfigLoader.defaults();
    Map<String, RegionConfig> regions = new HashMap<>();
    fakes.forEach(fake -> regions.put(fake.name, defaults.region(fake.name).withApiUrl(fake.url())));
    EdgeConfig edge = defaults.edge();
    EdgeConfig testEdge = tweak.apply(new EdgeConfig("127.0.0.1", 0, edge.maxBodyBytes(), edge.maxPromptChars(),
        3_600_000L, 5_000L, edge.latencyMs(), false, Map.of(), edge.limits()));
    EdgeVerticle verticle = new EdgeVerticle(configTweak.apply(defaults.withEdge(testEdge).withRegions(regions)), meters);
    Waits.await(AWAIT_S, vertx.deployVerticle(verticle));
    port = verticle.actualPort();
    http = WebClient.create(vertx);
    Waits.eventually(AWAIT_S, () -> regionStates().values().stream().allMatch("healthy"::equals), "all regions polled healthy");
  }

  HttpResponse<Buffer> post(String body, Map<String, String> headers) {
    var request = http.post(port, "127.0.0.1", "/v1/generations").putHeader("Content-Type", "application/json");
    headers.forEach(request::putHeader);
    return Waits.await(AWAIT_S, request.sendBuffer(Buffer.buffer(body)));
  }

  HttpResponse<Buffer> get(String path) {
    return Waits.await(AWAIT_S, http.get(port, "127.0.0.1", path).send());
  }

  /** What the edge believes about each region: name to {status, since, checked_at, reason}. */
  JsonObject regions() {
    return get("/health/ready").bodyAsJsonObject().getJsonObject("regions");
  }

  Map<String, String> regionStates() {
    JsonObject regions = regions();
    Map<String, String> states = new HashMap<>();
    regions.fieldNames().forEach(name -> states.put(name, regions.getJsonObject(name).getString("status")));
    return states;
  }

  String scrape() {
    return meters.scrape();
  }

  int createdInRegions() {
    return fakes.stream().mapToInt(fake -> fake.created.get()).sum();
  }

  void close() {
    http.close();
    Waits.await(AWAIT_S, vertx.close());
  }
}
