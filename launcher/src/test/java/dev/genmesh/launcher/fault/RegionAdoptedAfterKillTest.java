package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.testkit.RegionPostgres;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

/**
 * Two regions as OS processes, each region node with its own PostgreSQL server; region A's log
 * replicated (sync) to B. A's node and its PostgreSQL are SIGKILLed; B adopts A's acknowledged
 * requests from its replica; A starts again and fails back: what B adopted is final in A, never
 * dispatched there, and answered with a 307 to B (docs/architecture.md, "Replication and adoption").
 * Completing each adopted request once is AdoptionTest's (region-node), with a test worker.
 *
 * <p>Not in the suite: {@link RegionKilledAndCutOffTest}'s first phase shows the same on three
 * regions under load (us-west's node, worker and stores SIGKILLed, us-east adopts from its sync
 * replica, us-west back: the adopted rows ADOPTED in its log, its 307 naming us-east, a new submit
 * accepted). Run it with {@code -Dgenmesh.faultRepeats=true} (README, "Tests").
 */
@EnabledIfSystemProperty(named = "genmesh.faultRepeats", matches = "true",
    disabledReason = "RegionKilledAndCutOffTest shows it; -Dgenmesh.faultRepeats=true runs it")
class RegionAdoptedAfterKillTest {
  private static final Pattern LISTENING = Pattern.compile("\\[genmesh] region \\S+ listening on ([\\d.]+):(\\d+)");
  private static final Duration START = Duration.ofSeconds(120);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void theKilledRegionsAcknowledgedRequestsAreAdoptedByItsPeerAndNotRunAgainWhenItReturns() throws Exception {
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 5);
    String a = "fa-" + suffix;
    String b = "fb-" + suffix;
    int redisPort = EmbeddedStores.freePort();
    RedisServer redis = EmbeddedStores.redisServer(Files.createDirectories(dir.resolve("redis")), redisPort, false);
    redis.start();
    try (EmbeddedObjectStore objects = EmbeddedObjectStore.start(Files.createDirectories(dir.resolve("s3")), List.of());
        RegionPostgres pgA = RegionPostgres.start("genmesh_a");
        RegionPostgres pgB = RegionPostgres.start("genmesh_b")) {
      Path config = writeConfig(dir.resolve("genmesh.yaml"), a, b, pgA, pgB, redisPort, objects);
      ChildProcess nodeA = startNode(a, config);
      ChildProcess nodeB = startNode(b, config);
      MeshClient clientA = client(nodeA);
      MeshClient clientB = client(nodeB);
      Sleeps.until("A's log streams to B (sync)", START, () -> {
        MeshClient.Answer state = clientA.get("/internal/replication");
        return state.status() == 200 && state.json().getBoolean("peer_streaming") && "sync".equals(state.json().getString("mode"))
            ? true : null;
      });
      List<String> acknowledged = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        MeshClient.Answer accepted = clientA.submit(MeshClient.spec("a harbour at night " + i, 4, 256, i));
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        acknowledged.add(accepted.json().getString("id"));
      }

      nodeA.kill();
      pgA.kill();

      MeshClient.Answer adopted = clientB.post("/internal/failover/decisions",
          new JsonObject().put("region", a).put("state", "down").put("reason", "SIGKILL of " + a));
      assertThat(adopted.status()).as(adopted.body()).isEqualTo(200);
      assertThat(adopted.json().getInteger("adopted")).isEqualTo(5);
      for (String id : acknowledged) {
        MeshClient.Answer view = clientB.view(id);
        assertThat(view.status()).isEqualTo(200);
        assertThat(view.json().getString("status")).isEqualTo("queued");
        List<JsonObject> events = clientB.events(id);
        assertThat(events).extracting(e -> e.getString("type")).containsExactly("queued", "region_failover");
      }

      pgA.restart();
      ChildProcess nodeA2 = startNode(a, config);
      MeshClient clientA2 = client(nodeA2);
      for (String id : acknowledged) {
        assertThat(pgA.query("SELECT status, adopted_by FROM requests WHERE id = ?", id)).singleElement()
            .satisfies(row -> {
              assertThat(row.get("status")).isEqualTo("ADOPTED");
              assertThat(row.get("adopted_by")).isEqualTo(b);
            });
        MeshClient.Answer redirect = clientA2.view(id);
        assertThat(redirect.status()).isEqualTo(307);
        assertThat(redirect.json().getString("region")).isEqualTo(b);
      }
      MeshClient.Answer fresh = clientA2.submit(MeshClient.spec("after the fail-back", 4, 256, 9));
      assertThat(fresh.status()).as(fresh.body()).isEqualTo(202);
      nodeA2.stop(Duration.ofSeconds(10));
      nodeB.stop(Duration.ofSeconds(10));
    } finally {
      redis.stop();
    }
  }

  private ChildProcess startNode(String region, Path config) {
    return children.java("region-" + region + "-" + System.nanoTime(), List.of("-Xmx384m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1"), "dev.genmesh.launcher.Main",
        List.of("region", "--name", region, "--config", config.toString(), "--data-dir", dir.resolve(region).toString()));
  }

  private static MeshClient client(ChildProcess node) {
    Matcher listening = node.awaitLine(LISTENING, START);
    MeshClient client = MeshClient.regional("http://" + listening.group(1) + ":" + listening.group(2));
    Sleeps.until(node.name() + " ready", START, () -> client.get("/health/ready").status() == 200 ? true : null);
    return client;
  }

  private static Path writeConfig(Path file, String a, String b, RegionPostgres pgA, RegionPostgres pgB, int redisPort,
      EmbeddedObjectStore objects) throws IOException {
    objects.createBucket("genmesh-" + a);
    objects.createBucket("genmesh-" + b);
    StringBuilder yaml = new StringBuilder("regions:\n")
        .append(ProcessRegion.regionEntry(a, "a" + a.substring(3), pgA.port(), pgA.database(), redisPort, 4))
        .append(ProcessRegion.regionEntry(b, "b" + b.substring(3), pgB.port(), pgB.database(), redisPort, 4));
    yaml.append("""
        replication:
          mode: sync
          peers: {%1$s: %2$s}
          check_interval_ms: 200
          peer_timeout_ms: 5000
        images:
          endpoint: "%3$s"
          credentials_file: "%4$s"
          copies: {to: none}
        registry:
          primary: ""                # no registry primary: neither mirrors the default's us-west
        """.formatted(a, b, objects.endpoint(), objects.credentialsFile()));
    return Files.writeString(file, yaml.toString());
  }
}
