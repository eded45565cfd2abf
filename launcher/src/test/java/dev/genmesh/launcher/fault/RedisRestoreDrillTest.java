package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.launcher.backup.BackupFolder;
import dev.genmesh.launcher.backup.RedisBackup;
import dev.genmesh.launcher.backup.RedisBackups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Redis restore drill of docs/dr.md: a region (real processes) queues requests, Redis's
 * snapshot is copied by the backup code, more requests are queued; then the region node and Redis
 * die and Redis's disk is lost. A new Redis starts from the copy (it holds the queues as they were,
 * without the later requests), the region starts on it with a worker, rebuilds its queues from the
 * request log (I2), and every acknowledged request completes, once.
 */
class RedisRestoreDrillTest {
  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aRegionStartedOnARestoredRedisRebuildsItsQueuesAndCompletesEveryRequest() throws Exception {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores);
    region.start(); // the node alone: nothing is claimed, everything stays queued
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());
    submit(api, invariants, "queued before the backup", 5, 400);
    String queue = "genmesh:" + region.name() + ":queue:fast";
    assertThat(RedisCommand.run(stores.redisPort(), "ZCARD", queue)).isEqualTo("5");
    RedisCommand.run(stores.redisPort(), "SAVE");
    Path redisDir = dir.resolve("stores").resolve("redis");
    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "drill");
    RedisBackup copy = new RedisBackups(folder).take(redisDir);
    assertThat(copy.files()).contains("dump.rdb");
    submit(api, invariants, "queued after the backup", 3, 500);

    region.node().kill();
    stores.killRedis();
    for (String name : List.of("dump.rdb", "appendonly.aof")) {
      Files.deleteIfExists(redisDir.resolve(name)); // the disk is lost
    }
    long restoreStarted = System.nanoTime();
    new RedisBackups(folder).restore(Optional.empty(), redisDir);
    stores.startEmptyRedis(); // loads the restored snapshot
    assertThat(RedisCommand.run(stores.redisPort(), "ZCARD", queue))
        .as("the restored Redis holds the queue as it was backed up").isEqualTo("5");

    region.start("w1");
    long regionReadyMs = Duration.ofNanos(System.nanoTime() - restoreStarted).toMillis();
    var finals = invariants.awaitTerminal(region.client(), Duration.ofSeconds(120));
    invariants.assertHold(region.client(), finals);
    invariants.assertAllCompleted(finals);
    System.out.printf("[drill] Redis restored from its copy and the region ready on it in %d ms;"
        + " all %d requests completed %d ms after the restore began%n", regionReadyMs, finals.size(),
        Duration.ofNanos(System.nanoTime() - restoreStarted).toMillis());
  }

  private static void submit(MeshClient api, Invariants invariants, String prompt, int count, int seed) {
    for (int i = 0; i < count; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec(prompt + " " + i, 4, 512, seed + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
  }
}
