package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.edge.EdgeVerticle;
import dev.genmesh.embedded.EmbeddedUserDb;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserDbWatch;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user database's primary PostgreSQL (a separate process, one of three servers: a primary and a
 * streaming standby in each other region) is SIGKILLed while clients sign in at the edge
 * ({@code GET /v1/usage} with their keys) and an admin adds accounts and issues and revokes keys
 * through the edge's admin API. The edge's {@link UserDbWatch} promotes a standby, the edge follows
 * it without a restart, and afterwards every key whose issue the edge acknowledged (201) signs in,
 * every key whose revocation it acknowledged is refused (401).
 */
class UserDbPrimaryKilledTest {
  private static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");

  private EmbeddedUserDb db;
  private Vertx vertx;
  private UserStore setup;
  private int edgePort;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    db = EmbeddedUserDb.start(Files.createDirectories(dir.resolve("data")), REGIONS, "us-west", "genmesh_users",
        UsersConfig::standbyName, false);
    Map<String, PostgresConfig> copies = new LinkedHashMap<>();
    db.ports().forEach((region, port) -> copies.put(region, new PostgresConfig("127.0.0.1", port, "genmesh_users",
        "postgres", "", 4)));
    GenmeshConfig defaults = ConfigLoader.defaults();
    // The edge reads keys on us-east's copy (a standby at first), writes to whichever copy is the primary.
    GenmeshConfig config = defaults.withEdge(defaults.edge().withPort(0).withApiKeys(true, Map.of()))
        .withUsers(defaults.users().withDatabases("us-west", copies, "us-east", 1_500).withCacheMs(0));
    vertx = Vertx.vertx();
    setup = UserStores.open(vertx, config.users());
    Waits.await(setup.migrate());
    UserStore users = UserStores.open(vertx, config.users());
    EdgeVerticle edge = new EdgeVerticle(config, new SimpleMeterRegistry(), Clock.systemUTC(), users);
    Waits.await(vertx.deployVerticle(edge));
    edgePort = edge.actualPort();
    UserDbWatch.start(vertx, config.users(), new SimpleMeterRegistry()).orElseThrow();
  }

  @AfterEach
  void stop() {
    Waits.await(setup.close());
    Waits.await(vertx.close());
    db.close();
  }

  @Test
  void primaryKilledUnderSignInAndKeyIssuingLosesNoAcknowledgedKeyOrRevocation() throws Exception {
    Waits.await(setup.addUser("ops", List.of()));
    String admin = Waits.await(setup.issueKey("ops", List.of(), true)).secret();
    Map<String, Boolean> acknowledged = new ConcurrentHashMap<>(); // key -> revoked
    Set<String> uncertain = ConcurrentHashMap.newKeySet();
    AtomicInteger afterKill = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService load = Executors.newFixedThreadPool(2);
    for (int t = 0; t < 2; t++) {
      int thread = t;
      load.submit(() -> {
        for (int i = 0; running.get(); i++) {
          try {
            String user = "t" + thread + "-" + i;
            if (call("POST", "/v1/admin/users", admin, new JsonObject().put("id", user)).statusCode() != 201) {
              failures.incrementAndGet();
              continue;
            }
            HttpResponse<String> issued = call("POST", "/v1/admin/keys", admin, new JsonObject().put("user", user));
            if (issued.statusCode() != 201) {
              failures.incrementAndGet();
              continue;
            }
            JsonObject key = new JsonObject(issued.body());
            acknowledged.put(key.getString("key"), false);
            if (killed.get()) {
              afterKill.incrementAndGet();
            }
            call("GET", "/v1/usage", key.getString("key"), null); // sign-in: may fail while no copy answers
            if (i % 4 == 0) {
              uncertain.add(key.getString("key"));
              if (call("DELETE", "/v1/admin/keys/" + key.getString("id"), admin, null).statusCode() == 200) {
                acknowledged.put(key.getString("key"), true);
                uncertain.remove(key.getString("key"));
              }
            }
          } catch (RuntimeException e) {
            failures.incrementAndGet(); // the edge unreachable for a moment: nothing acknowledged
          }
        }
      });
    }
    Waits.eventually(30, () -> acknowledged.size() >= 20, "20 keys issued before the kill");
    db.kill("us-west");
    killed.set(true);
    Waits.eventually(60, () -> afterKill.get() >= 20, "20 keys issued through the edge after the primary was killed");
    running.set(false);
    load.shutdown();
    assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

    acknowledged.forEach((key, revoked) -> {
      if (!uncertain.contains(key)) {
        assertThat(call("GET", "/v1/usage", key, null).statusCode()).as("a key %s", revoked ? "revoked" : "issued")
            .isEqualTo(revoked ? 401 : 200);
      }
    });
    assertThat(acknowledged.values()).as("some revocations were acknowledged").contains(true);
    System.out.printf("user database primary killed: %d keys acknowledged (%d revoked), %d calls refused meanwhile%n",
        acknowledged.size(), acknowledged.values().stream().filter(r -> r).count(), failures.get());
  }

  private HttpResponse<String> call(String method, String path, String key, JsonObject body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort + path))
        .timeout(Duration.ofSeconds(15)).header("Authorization", "Bearer " + key)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
