package dev.genmesh.region;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import dev.genmesh.testkit.Waits;
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
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** One deployed region node plus the HTTP and WebSocket clients a test talks to it with. */
public final class NodeUnderTest {
  public final Vertx vertx;
  public final RegionNodeVerticle node;
  public final PrometheusMeterRegistry meters;
  public final String deploymentId;
  /** The region's bucket, as the node sees it. */
  public final ImageStore images;
  private final WebClient http;
  private final WebSocketClient ws;

  private NodeUnderTest(Vertx vertx, RegionNodeVerticle node, PrometheusMeterRegistry meters, String deploymentId,
      ImageStore images) {
    this.vertx = vertx;
    this.node = node;
    this.meters = meters;
    this.deploymentId = deploymentId;
    this.images = images;
    this.http = WebClient.create(vertx);
    this.ws = vertx.createWebSocketClient();
  }

  public static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config) {
    return deploy(vertx, config, Clock.systemUTC());
  }

  public static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, Clock clock) {
    return deploy(vertx, config, clock, new dev.genmesh.region.autoscale.impl.LoggingActuator());
  }

  public static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, Clock clock,
      dev.genmesh.autoscaler.Actuator actuator) {
    return deploy(vertx, config, TestRegion.REGION, clock, actuator);
  }

  /** A node of region {@code region} of {@code config} (not necessarily the tests' us-west). */
  public static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, String region) {
    return deploy(vertx, config, region, Clock.systemUTC(), new dev.genmesh.region.autoscale.impl.LoggingActuator());
  }

  private static Future<NodeUnderTest> deploy(Vertx vertx, GenmeshConfig config, String region, Clock clock,
      dev.genmesh.autoscaler.Actuator actuator) {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RegionNodeVerticle node = new RegionNodeVerticle(config, region, meters, clock)
        .withActuator(actuator)
        .withLocalSafety(new ReferenceSafety());
    return vertx.deployVerticle(node).map(id -> new NodeUnderTest(vertx, node, meters, id,
        ImageStores.s3(vertx, config.images().forRegion(region))));
  }

  public Future<Void> undeploy() {
    http.close();
    return ws.close().transform(v -> vertx.undeploy(deploymentId)).eventually(images::close);
  }

  public int port() {
    return node.actualPort();
  }

  public Future<HttpResponse<Buffer>> submit(JsonObject body) {
    return http.post(port(), "127.0.0.1", "/regional/v1/generations").sendJsonObject(body);
  }

  public Future<HttpResponse<Buffer>> post(String path, Buffer body) {
    return http.post(port(), "127.0.0.1", path).putHeader("content-type", "application/json").sendBuffer(body);
  }

  public Future<HttpResponse<Buffer>> delete(String path) {
    return http.delete(port(), "127.0.0.1", path).send();
  }

  /** The view of a request (GET), as JSON. */
  public JsonObject view(String id) {
    return Waits.await(get("/regional/v1/generations/" + id)).bodyAsJsonObject();
  }

  /** The stored events of a request (plain GET of the events route). */
  public List<JsonObject> events(String id) {
    List<JsonObject> out = new ArrayList<>();
    Waits.await(get("/regional/v1/generations/" + id + "/events")).bodyAsJsonObject().getJsonArray("events")
        .forEach(e -> out.add((JsonObject) e));
    return out;
  }

  public double counter(String name, String... tags) {
    return meters.find(name).tags(tags).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  public Future<HttpResponse<Buffer>> get(String path) {
    return http.get(port(), "127.0.0.1", path).send();
  }

  public Future<HttpResponse<Buffer>> get(String path, String header, String value) {
    return http.get(port(), "127.0.0.1", path).putHeader(header, value).send();
  }

  /** Every text frame of a WebSocket until the server closes it. */
  public Future<List<JsonObject>> stream(String path) {
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
