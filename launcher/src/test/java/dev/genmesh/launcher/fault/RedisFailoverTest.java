package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.embedded.EmbeddedRedisHa;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The design's "queue service outage" (issue 15 item 2), with real processes: the region reaches
 * its Redis through a Sentinel, over a master and its replica. The master is SIGKILLed while
 * requests are queued and running; the sentinel promotes the replica, the region node's client
 * follows it, the queues are rebuilt from the request log (what the replica had not received is
 * not lost: I2), and every acknowledged request completes exactly once. Submissions keep being
 * accepted into the log meanwhile.
 */
class RedisFailoverTest {
  private static final long DOWN_AFTER_MS = 1_000;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void theRegionRidesASentinelFailoverAndLosesNothing() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    EmbeddedRedisHa ha = stores.startRedisHa(DOWN_AFTER_MS);
    ProcessRegion region = new ProcessRegion(children, dir, stores);
    region.start("w1");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    for (int i = 0; i < 4; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("a lighthouse in a storm " + i, 16, 512, 500 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
    Sleeps.until("a request generating while others wait", Duration.ofSeconds(90), () -> invariants.acknowledged()
        .stream().map(api::view).anyMatch(a -> a.status() == 200 && "generating".equals(a.json().getString("status")))
        ? true : null);

    Instant killed = Instant.now();
    stores.killRedis();
    Sleeps.until("the sentinel promoted the replica", Duration.ofSeconds(60), () ->
        "master".equals(RedisCommand.run(ha.replicaPort(), "ROLE")) ? true : null);
    Duration failover = Duration.between(killed, Instant.now());
    // Submits go on: into the log at once, into the new master's queues by the rebuild.
    invariants.submitUntilAcceptedAgain(api, "after the failover", Duration.ofSeconds(60));
    invariants.awaitAllCompleted(api, Duration.ofSeconds(180));
    System.out.printf("redis failover: replica promoted %d ms after the master was killed%n", failover.toMillis());
  }
}
