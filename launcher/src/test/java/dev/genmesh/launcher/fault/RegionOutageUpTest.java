package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.launcher.CliRun;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code genmesh up --region-processes --random-ports} as a process (three regions, each its node, worker
 * and PostgreSQL as processes of their own, failover on with {@code bench/chaos/regions.yaml}'s timings),
 * then {@code genmesh chaos region-outage} against it, briefly: a region SIGKILLed under load is declared
 * DOWN, its peer adopts its open requests, which complete; streams opened before the kill reach
 * {@code completed}; started again, it reconciles, is declared UP and serves new submits; the invariants
 * hold. Then {@code genmesh region-kill} as a newcomer types it. Around it, the stores of the mode: no shared
 * Redis (nor its replica and sentinel) and no shared object store run, only each region's own; {@code genmesh backup}
 * copies each region's own Redis into that region's set, and {@code up}'s schedule copies each set into the next
 * region's own store; the chaos control's Redis calls hit one region's own Redis (SIGKILL, then started again on its
 * port), and {@code redis-failover}, which needs the shared pair's sentinel, is refused with the reason. About 6
 * minutes here (90 s of start-up with seven JVMs on two cores, 30-45 s of backups, 3 min of experiment; 354 s in its
 * last run), past the short matrix's 3: it is the one process-level test of the mode (docs/chaos.md, "CI matrix and
 * the full matrix").
 */
class RegionOutageUpTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(300);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aRegionKilledUnderLoadIsAdoptedAndFailsBack() throws IOException {
    Path data = children.meshData(dir);
    Path config = Path.of(System.getProperty("basedir", "."), "..", "bench", "chaos", "regions.yaml").normalize();
    ChildProcess up = children.java("up", List.of("-Xmx768m", "-XX:+UseSerialGC"), "dev.genmesh.launcher.Main",
        List.of("up", "--region-processes", "--random-ports", "--no-fsync", "--data-dir", data.toString(),
            "--config", config.toString()));
    up.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT);
    JsonObject ownRedis = onlyEachRegionsOwnStores(up, data);
    eachRegionsOwnRedisIsBackedUp(data, config, ownRedis);

    Path report = dir.resolve("chaos.json");
    CliRun run = CliRun.of("chaos", "region-outage", "--data-dir", data.toString(), "--rate", "0.5", "--steps", "10",
        "--warm-up", "5", "--duration", "10", "--drain-timeout", "180", "--json", report.toString());

    JsonObject result = new JsonObject(Files.readString(report)).getJsonArray("runs").getJsonObject(0);
    assertThat(result.getBoolean("passed")).as(result.encodePrettily()).isTrue();
    assertThat(run.exit()).as(run.err()).isZero();
    JsonObject measures = result.getJsonObject("measures");
    assertThat(measures.getDouble("adopted")).as("requests open in the victim at the kill").isPositive();
    assertThat(measures.getDouble("detection_s")).as("kill → DOWN decision").isBetween(0.0, 60.0);
    assertThat(measures.getDouble("failover_complete_s")).as("kill → its open requests served by the peer")
        .isBetween(0.0, 60.0);
    assertThat(measures.getDouble("failback_s")).as("start → UP decision").isPositive();

    // The command a newcomer types (region-start is the same control call as the experiment's start).
    CliRun kill = CliRun.of("region-kill", "eu-west", "--data-dir", data.toString());
    assertThat(kill.exit()).as(kill.err()).isZero();
    JsonArray killed = new JsonObject(kill.out()).getJsonArray("killed");
    assertThat(killed.stream().map(k -> ((JsonObject) k).getString("role")).collect(Collectors.toSet()))
        .as(killed.encode()).containsAll(Set.of("node", "worker", "postgres", "redis"));
    assertThat(killed.stream().map(k -> ((JsonObject) k).getLong("pid")))
        .allSatisfy(pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("process " + pid).isEmpty());
    JsonObject objectStore = new JsonObject(kill.out()).getJsonArray("stopped").getJsonObject(0);
    assertThat(objectStore.getString("role")).isEqualTo("object-store");
    assertThat(refuses(objectStore.getInteger("port"))).as("the object store of eu-west, stopped").isTrue();

    CliRun unknown = CliRun.of("region-kill", "mars", "--data-dir", data.toString());
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("no region mars");

    eachSetIsCopiedToTheNextRegionsOwnStore(data);
    chaosHurtsOneRegionsOwnRedis(data, ownRedis.getJsonObject("us-east").getInteger("port"));
  }

  /** No shared Redis pair or object store: neither their folders nor banner lines; each region's own Redis answers. */
  private static JsonObject onlyEachRegionsOwnStores(ChildProcess up, Path data) throws IOException {
    for (String shared : List.of("redis", "redis-replica", "redis-sentinel", "s3/buckets")) {
      assertThat(data.resolve(shared)).as("the shared store's folder " + shared).doesNotExist();
    }
    // The banner's lines follow "ready in" on the child's output: wait for the stores' lines before judging it.
    java.util.regex.Pattern ownStores = java.util.regex.Pattern.compile("stores +us-east: redis 127\\.0\\.0\\.1:\\d+");
    Sleeps.until("the banner's line of us-east's own stores", Duration.ofSeconds(30), () -> up.printed(ownStores) ? true : null);
    assertThat(up.printed(java.util.regex.Pattern.compile("^  redis +redis://|^  object store  |Redis Sentinel"))).as(up.tail(40)).isFalse();
    JsonObject redis = control(data).get("/chaos/targets").json().getJsonObject("redis");
    assertThat(redis.containsKey("master_port")).as(redis.encode()).isFalse();
    JsonObject own = redis.getJsonObject("regions");
    assertThat(own.fieldNames()).containsExactlyInAnyOrder("us-west", "us-east", "eu-west");
    own.forEach(region -> assertThat(RedisCommand.run(((JsonObject) region.getValue()).getInteger("port"), "PING"))
        .as("the Redis of " + region.getKey()).isEqualTo("PONG"));
    return own;
  }

  /** {@code genmesh backup} (a snapshot written first: {@code --no-fsync} keeps none) copies every region's own Redis. */
  private static void eachRegionsOwnRedisIsBackedUp(Path data, Path config, JsonObject ownRedis) throws IOException {
    ownRedis.forEach(region -> RedisCommand.run(((JsonObject) region.getValue()).getInteger("port"), "SAVE"));
    CliRun backup = CliRun.of("backup", "--data-dir", data.toString(), "--config", config.toString());
    assertThat(backup.exit()).as(backup.out() + backup.err()).isZero();
    for (String region : ownRedis.fieldNames()) {
      try (var copies = Files.walk(data.resolve("backups").resolve(region).resolve("redis"))) {
        assertThat(copies.filter(f -> f.getFileName().toString().equals("dump.rdb")).count())
            .as("a copy of the Redis of " + region + " in its own set\n" + backup.out()).isPositive();
      }
    }
  }

  /** up's schedule puts each region's set in the bucket {@code genmesh-<region>-backups} of the next region's own store. */
  private static void eachSetIsCopiedToTheNextRegionsOwnStore(Path data) {
    Map<String, String> holders = Map.of("us-west", "us-east", "us-east", "eu-west", "eu-west", "us-west");
    holders.forEach((set, holder) -> Sleeps.until("the backups of " + set + " in the store of " + holder,
        Duration.ofSeconds(90), () -> {
          Path bucket = data.resolve("regions").resolve(holder).resolve("s3").resolve("buckets")
              .resolve("genmesh-" + set + "-backups");
          try (var files = Files.walk(bucket)) {
            return files.anyMatch(Files::isRegularFile) ? true : null;
          } catch (IOException | java.io.UncheckedIOException absent) {
            return null;
          }
        }));
  }

  /** A region's own Redis SIGKILLed and started again through the control API; the shared pair's calls are refused. */
  private static void chaosHurtsOneRegionsOwnRedis(Path data, int port) {
    dev.genmesh.launcher.chaos.impl.ChaosHttp control = control(data);
    var killed = control.post("/chaos/redis/regions/us-east/signal", new JsonObject().put("signal", "KILL"));
    assertThat(killed.status()).as(killed.body()).isEqualTo(200);
    long pid = killed.json().getLong("pid");
    Sleeps.until("the Redis of us-east gone", Duration.ofSeconds(10),
        () -> ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty() ? true : null);
    assertThat(refuses(port)).as("the Redis port of us-east").isTrue();
    var started = control.post("/chaos/redis/regions/us-east/start", new JsonObject());
    assertThat(started.status()).as(started.body()).isEqualTo(200);
    assertThat(started.json().getInteger("port")).isEqualTo(port);
    assertThat(RedisCommand.run(port, "PING")).isEqualTo("PONG");

    var master = control.post("/chaos/redis/kill-master", new JsonObject());
    assertThat(master.status()).as(master.body()).isEqualTo(409);
    assertThat(master.json().getString("message")).contains("own Redis");
    CliRun list = CliRun.of("chaos", "--list", "--data-dir", data.toString());
    assertThat(list.exit()).as(list.err()).isZero();
    assertThat(list.out()).containsPattern("redis-failover[^\\n]*\\n\\s+not here: each region");
  }

  private static dev.genmesh.launcher.chaos.impl.ChaosHttp control(Path data) {
    try {
      JsonObject file = new JsonObject(Files.readString(data.resolve("chaos").resolve("control.json")));
      return new dev.genmesh.launcher.chaos.impl.ChaosHttp(file.getString("url"), file.getString("token"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static boolean refuses(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2_000);
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
