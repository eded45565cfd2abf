package dev.genmesh.launcher.fault;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A client's progress stream of one request through the edge ({@code GET /v1/generations/{id}/events}, WebSocket). */
final class EdgeStream implements WebSocket.Listener {
  private final String id;
  private final List<JsonObject> events = new CopyOnWriteArrayList<>();
  private final StringBuilder partial = new StringBuilder();
  private volatile Integer closeCode;

  private EdgeStream(String id) {
    this.id = id;
  }

  static EdgeStream open(String edgeUrl, String id) {
    return open(edgeUrl, id, -1);
  }

  /** @param after resume after this event id ({@code ?after=}); negative: from the start */
  static EdgeStream open(String edgeUrl, String id, long after) {
    EdgeStream stream = new EdgeStream(id);
    String query = after < 0 ? "" : "?after=" + after;
    try {
      HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(URI.create(edgeUrl.replaceFirst("^http", "ws") + "/v1/generations/" + id + "/events" + query), stream)
          .get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("cannot open the stream of " + id + " through the edge: " + e, e);
    }
    return stream;
  }

  @Override
  public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      events.add(new JsonObject(partial.toString()));
      partial.setLength(0);
    }
    socket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
    closeCode = statusCode;
    return null;
  }

  String id() {
    return id;
  }

  List<String> types() {
    return events.stream().map(e -> e.getString("type")).toList();
  }

  /** Event numbers as relayed: no gap and no repeat means the stream went on where it broke. */
  List<Long> ids() {
    return events.stream().map(e -> e.getLong("id")).toList();
  }

  boolean completed() {
    return types().contains("completed");
  }

  Integer closeCode() {
    return closeCode;
  }

  @Override
  public String toString() {
    return id + " " + types() + " closed " + closeCode;
  }
}
