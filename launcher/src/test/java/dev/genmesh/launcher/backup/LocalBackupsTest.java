package dev.genmesh.launcher.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.launcher.Main;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The backups of {@code genmesh up}: its PostgreSQL started with the archive settings, the schedule
 * takes a base backup at once (none existed), copies PostgreSQL's and Redis's files into the next
 * region's bucket and counts it; then the commands an operator runs against the same data directory:
 * {@code genmesh backup}, {@code backup list} and {@code restore --to latest}.
 */
class LocalBackupsTest {
  @TempDir Path dataDir;

  @Test
  void upBacksUpAtOnceAndCopiesAndTheCommandsWorkOnItsDataDirectory() throws Exception {
    GenmeshConfig defaults = ConfigLoader.defaults();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Vertx vertx = Vertx.vertx();
    String copyBucket = "genmesh-us-west-backups";
    try (EmbeddedStores stores = EmbeddedStores.start(dataDir, List.of("genmesh_us_west"), List.of(), true,
        LocalBackups.postgresSettings(defaults, dataDir))) {
      GenmeshConfig config = defaults.withImages(defaults.images().withStore(stores.objectStore().endpoint(),
          stores.objectStore().credentialsFile().toString()));
      BackupFolder folder = LocalBackups.folder(config, dataDir);
      assertThat(folder.set()).isEqualTo("us-west");
      try (BackupSchedule schedule = LocalBackups.start(config, dataDir, stores, vertx, meters)) {
        Waits.eventually(60, () -> meters.find("genmesh.backups").tags("kind", "base", "outcome", "ok").counter() != null,
            "the first base backup");
        assertThat(folder.baseBackups()).hasSize(1);
        assertThat(folder.redisBackups()).as("Redis's append-only file copied").hasSize(1);
        assertThat(filesIn(stores.objectStore().bucketDir(copyBucket)))
            .as("copied to us-east's bucket for us-west").anyMatch(name -> name.endsWith("base.zip"))
            .anyMatch(name -> name.endsWith(".gz")).anyMatch(name -> name.endsWith("dump.rdb") || name.endsWith("appendonly.aof"));
      }
      assertThat(run("backup", "--data-dir", dataDir.toString())).isZero();
      assertThat(folder.baseBackups()).hasSize(2);
      assertThat(run("backup", "list", "--data-dir", dataDir.toString())).isZero();
      BaseBackups.archiveCurrentWal(stores.postgresPort(), java.time.Duration.ofSeconds(30));
    }
    Path restored = dataDir.resolve("restored");
    assertThat(run("restore", "--to", "latest", "--into", restored.toString(), "--data-dir", dataDir.toString())).isZero();
    assertThat(restored.resolve("PG_VERSION")).exists();
    // the operator's last step: the restored folder becomes the data directory's PostgreSQL
    Path next = dataDir.resolve("next");
    Files.createDirectories(next);
    Files.move(restored, next.resolve("postgres"));
    try (EmbeddedStores again = EmbeddedStores.start(next, List.of("genmesh_us_west"), List.of(), false,
        LocalBackups.postgresSettings(defaults, next));
        var connection = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + again.postgresPort()
            + "/genmesh_us_west", "postgres", "");
        var row = connection.createStatement().executeQuery("SELECT NOT pg_is_in_recovery()")) {
      row.next();
      assertThat(row.getBoolean(1)).as("up serves from the restored folder, writable").isTrue();
    }
    assertThat(run("restore", "--to", "yesterday", "--into", dataDir.resolve("x").toString(), "--data-dir",
        dataDir.toString())).as("a bad time is the user's error").isEqualTo(2);
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  private static int run(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  private static List<String> filesIn(Path dir) throws Exception {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).map(Path::toString).toList();
    }
  }
}
