package dev.genmesh.launcher.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copies of Redis's files: which folder is copied, how long copies are kept, what a restore puts back. */
class RedisBackupsTest {
  @TempDir Path dir;

  @Test
  void theFolderWrittenLastIsCopiedAndItsFilesComeBackWhole() throws Exception {
    Path master = Files.createDirectories(dir.resolve("redis"));
    Path replica = Files.createDirectories(dir.resolve("redis-replica"));
    Files.writeString(master.resolve("appendonly.aof"), "old master");
    Files.setLastModifiedTime(master.resolve("appendonly.aof"), FileTime.from(Instant.now().minusSeconds(600)));
    Files.writeString(replica.resolve("appendonly.aof"), "promoted replica");
    Files.writeString(replica.resolve("dump.rdb"), "snapshot");
    Backups.Source source = new Backups.Source(dir.resolve("pg"), 5432, List.of(master, replica, dir.resolve("none")));
    assertThat(source.freshestRedisDir()).contains(replica);

    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "us-west");
    RedisBackup copy = new RedisBackups(folder).take(replica);
    assertThat(copy.files()).containsExactly("dump.rdb", "appendonly.aof");
    Path fresh = dir.resolve("restored");
    assertThat(new RedisBackups(folder).restore(Optional.empty(), fresh)).isEqualTo(copy);
    assertThat(Files.readString(fresh.resolve("appendonly.aof"))).isEqualTo("promoted replica");
    assertThatThrownBy(() -> new RedisBackups(folder).restore(Optional.empty(), fresh))
        .as("a folder with Redis data is not overwritten").hasMessageContaining("restore into a new folder");
    assertThatThrownBy(() -> new RedisBackups(folder).take(dir.resolve("none"))).hasMessageContaining("no dump.rdb");
  }

  @Test
  void copiesOlderThanTheRetentionGoButTheNewestStays() throws Exception {
    Path redis = Files.createDirectories(dir.resolve("redis"));
    Files.writeString(redis.resolve("dump.rdb"), "snapshot");
    BackupFolder folder = new BackupFolder(dir.resolve("backups"), "us-west");
    RedisBackups backups = new RedisBackups(folder);
    RedisBackup first = backups.take(redis);
    Thread.sleep(5); // ids are milliseconds
    RedisBackup second = backups.take(redis);
    Instant now = second.takenAt();

    Files.createDirectories(dir.resolve("backups/us-west/redis/20261207T000000000Z")); // cut short: no backup.json
    assertThat(backups.retain(Duration.ofDays(7), now)).isEmpty();
    assertThat(dir.resolve("backups/us-west/redis/20261207T000000000Z")).as("an unfinished copy is cleaned up").doesNotExist();
    assertThat(backups.retain(Duration.ofDays(7), now.plus(Duration.ofDays(30))))
        .as("all are older than 7 days: the newest stays").hasSize(2)
        .allSatisfy(key -> assertThat(key).startsWith("redis/" + first.id() + "/"));
    assertThat(folder.redisBackups()).containsExactly(second);
    assertThatThrownBy(() -> backups.restore(Optional.of(first.takenAt()), dir.resolve("x")))
        .as("the copy of that time is gone").hasMessageContaining("no copy of Redis");
  }
}
