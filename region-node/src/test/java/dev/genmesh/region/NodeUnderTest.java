package dev.genmesh.region;

import dev.genmesh.config.GenmeshConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** One deployed region node plus the HTTP and WebSocket clients a test talks to it with. */
final class NodeUnderTest {
  final Vertx vertx;
  final RegionNodeVerticle node;
  final PrometheusMeterRegistry meters;
  final Path imageDir;
  final String deploymentId;
  private final WebClient http;
  private final WebSocketClient ws;

  private NodeUnderTest(Vertx vertx, RegionNodeVerticle node, PrometheusMeterRegistry meters, Path imageDir,
      String deploymentId) {
    this.vertx = vertx;
    this.node = node;
    this.meters = meters;
    this.imageDir = imageDir;
    this.deploymentId = deploymentId;
    this.http = WebClient.create(vertx);
    this.ws = vertx.createWebSocketClient();
  }

  static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, Path imageDir) {
    return deploy(vertx, config, imageDir, Clock.systemUTC());
  }

  static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, Path imageDir, Clock clock) {
    return deploy(vertx, config, imageDir, clock, new dev.genmesh.region.autoscale.impl.LoggingActuator());
  }

  static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, Path imageDir, Clock clock,
      dev.genmesh.autoscaler.Actuator actuator) {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RegionNodeVerticle node = new RegionNodeVerticle(config, EmbeddedStores.REGION, meters, imageDir, clock)
        .withActuator(actuator)
        .withLocalSafety(new ReferenceSafety());
    return vertx.deployVerticle(node).map(id -> new NodeUnderTest(vertx, node, meters, imageDir, id));
  }

  Future<Void> undeploy() {
    http.close();
    return ws.close().transform(v -> vertx.undeploy(deploymentId));
  }

  int port() {
    return node.actualPort();
  }

  Future<HttpResponse<Buffer>> submit(JsonObject body) {
    return http.post(port(), "127.0.0.1", "/regional/v1/generations").sendJsonObject(body);
  }

  Future<HttpResponse<Buffer>> post(String path, Buffer body) {
    return http.post(port(), "127.0.0.1", path).putHeader("content-type", "application/json").sendBuffer(body);
  }

  Future<HttpResponse<Buffer>> delete(String path) {
    return http.delete(port(), "127.0.0.1", path).send();
  }

  /** The view of a request (GET), as JSON. */
  JsonObject view(String id) {
    return Await.result(get("/regional/v1/generations/" + id)).bodyAsJsonObject();
  }

  /** The stored events of a request (plain GET of the events route). */
  List<JsonObject> events(String id) {
    List<JsonObject> out = new ArrayList<>();
    Await.result(get("/regional/v1/generations/" + id + "/events")).bodyAsJsonObject().getJsonArray("events")
        .forEach(e -> out.add((JsonObject) e));
    return out;
  }

  double counter(String name, String... tags) {
    return meters.find(name).tags(tags).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  Future<HttpResponse<Buffer>> get(String path) {
    return http.get(port(), "127.0.0.1", path).send();
  }

  Future<HttpResponse<Buffer>> get(String path, String header, String value) {
    return http.get(port(), "127.0.0.1", path).putHeader(header, value).send();
  }

  /** Every text frame of a WebSocket until the server closes it. */
  Future<List<JsonObject>> stream(String path) {
    Promise<List<JsonObject>> done = Promise.promise();
    // Connect from an event loop so the handlers are in place before the first frame.
    vertx.getOrCreateContext().runOnContext(v ->
        ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port()).setURI(path))
            .onSuccess(socket -> {
              List<JsonObject> frames = new ArrayList<>();
              socket.textMessageHandler(text -> frames.add(new JsonObject(text)));
              socket.closeHandler(closed -> done.tryComplete(frames));
            })
            .onFailure(done::tryFail));
    return done.future();
  }
}
