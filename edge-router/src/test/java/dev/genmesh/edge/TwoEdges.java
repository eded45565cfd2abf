package dev.genmesh.edge;

import dev.genmesh.config.UsersConfig;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.util.function.UnaryOperator;

/**
 * Two edges over one user database in front of one fake region (us-west), with users alice and bob
 * and a key each: for what every edge must count the same (rate limits, GPU quotas).
 */
final class TwoEdges {
  private static final long S = 10;

  final Vertx vertx = Vertx.vertx();
  final FakeRegion region;
  final UsersFixture fixture;
  final String alice;
  final String bob;
  final int first;
  final int second;
  private final WebClient http;

  /** @param tweak changes the users section (rate limits, quotas) */
  TwoEdges(TestStores stores, UnaryOperator<UsersConfig> tweak) {
    region = Waits.await(S, new FakeRegion(vertx, "us-west", "usw").start());
    fixture = new UsersFixture(vertx, stores, region, tweak);
    alice = fixture.userWithKey("alice", false);
    bob = fixture.userWithKey("bob", false);
    first = fixture.deployEdge(vertx, fixture.config, Clock.systemUTC()).actualPort();
    second = fixture.deployEdge(vertx, fixture.config, Clock.systemUTC()).actualPort();
    http = WebClient.create(vertx);
  }

  /** {@code POST /v1/generations} of a cat in {@code tier} with {@code key}. */
  HttpResponse<Buffer> submit(int port, String key, String tier) {
    return Waits.await(S, http.post(port, "127.0.0.1", "/v1/generations").putHeader("Authorization", "Bearer " + key)
        .sendJsonObject(new JsonObject().put("prompt", "a cat").put("tier", tier)));
  }

  HttpRequest<Buffer> get(int port, String path, String key) {
    return http.get(port, "127.0.0.1", path).putHeader("Authorization", "Bearer " + key);
  }

  void close() {
    fixture.close(vertx);
  }
}
