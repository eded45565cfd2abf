package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The region's Redis is SIGKILLed while requests are queued and running, and a new, empty
 * Redis comes up on the same port: the region notices its queues and leases are gone,
 * rebuilds them from the request log (I2), and every request completes. Submissions while
 * Redis is down are still accepted into the log.
 */
class RedisLostTest {
  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void everyRequestComesBackAfterRedisIsReplacedByAnEmptyOne() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores);
    region.start("w1", "w2");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    for (int i = 0; i < 8; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("a harbour at night " + i, 30, 768, 200 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
    // Workers batch compatible requests (up to 4 at a time), so all 8 may be running at once:
    // once one runs, more are submitted behind the busy workers, and those wait in the queue.
    Sleeps.until("a request generating", Duration.ofSeconds(180), () ->
        statuses(api, invariants).getOrDefault("generating", 0L) >= 1 ? true : null);
    for (int i = 0; i < 3; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("queued behind the busy workers " + i, 10, 512, 250 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
    Sleeps.until("requests both running and queued", Duration.ofSeconds(60), () -> {
      Map<String, Long> byStatus = statuses(api, invariants);
      return byStatus.getOrDefault("generating", 0L) >= 1 && byStatus.getOrDefault("queued", 0L) >= 1 ? true : null;
    });

    stores.killRedis();
    for (int i = 0; i < 2; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("submitted while Redis is down " + i, 10, 512, 300 + i));
      assertThat(answer.status()).as("a submit while Redis is down is still taken into the log: %s", answer.body())
          .isEqualTo(202);
      invariants.record(answer);
    }
    // Down for a lease: the old server's leases would have lapsed by now, so nothing is left to find.
    Sleeps.pause(Duration.ofMillis(region.config().queue().leaseMs()));
    stores.startEmptyRedis();

    Map<String, JsonObject> finals = invariants.awaitTerminal(api, Duration.ofSeconds(240));
    invariants.assertHold(api, finals);
    invariants.assertAllCompleted(finals);
  }

  private static Map<String, Long> statuses(MeshClient api, Invariants invariants) {
    return invariants.acknowledged().stream()
        .map(api::view)
        .filter(answer -> answer.status() == 200)
        .collect(java.util.stream.Collectors.groupingBy(answer -> answer.json().getString("status"),
            java.util.stream.Collectors.counting()));
  }
}
