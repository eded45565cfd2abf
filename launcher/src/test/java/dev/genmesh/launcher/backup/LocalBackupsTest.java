package dev.genmesh.launcher.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.launcher.Main;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The backups of {@code genmesh up}: each region's PostgreSQL started with its archive settings, one
 * schedule per region takes a base backup at once (none existed), copies it into the next region's
 * bucket and counts it, Redis's files going with the first region's set; then the commands an
 * operator runs against the same data directory: {@code genmesh backup}, {@code backup list},
 * {@code restore --to latest}, and the stores started on the restored folder.
 */
class LocalBackupsTest {
  @TempDir Path dataDir;

  @Test
  void upBacksUpEachRegionAtOnceAndCopiesAndTheCommandsWorkOnItsDataDirectory() throws Exception {
    GenmeshConfig all = ConfigLoader.defaults();
    Map<String, RegionConfig> two = new LinkedHashMap<>();
    List.of("us-west", "us-east").forEach(r -> two.put(r, all.regions().get(r)));
    GenmeshConfig defaults = all.withRegions(two);
    Map<String, String> databases = new LinkedHashMap<>();
    two.values().forEach(r -> databases.put(r.name(), r.postgres().database()));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Vertx vertx = Vertx.vertx();
    try (EmbeddedStores stores = EmbeddedStores.startRegional(dataDir, databases, List.of(), true,
        region -> LocalBackups.postgresSettings(defaults, dataDir, region))) {
      GenmeshConfig config = defaults.withImages(defaults.images().withStore(stores.objectStore().endpoint(),
          stores.objectStore().credentialsFile().toString()));
      List<BackupSchedule> schedules = LocalBackups.start(config, dataDir, stores, vertx, meters);
      try {
        for (String region : two.keySet()) {
          Waits.eventually(60, () -> meters.find("genmesh.backups").tags("set", region, "kind", "base", "outcome", "ok")
              .counter() != null, "the first base backup of " + region);
          assertThat(LocalBackups.folder(config, dataDir, region).baseBackups()).hasSize(1);
          assertThat(filesIn(stores.objectStore().bucketDir("genmesh-" + region + "-backups")))
              .as("copied to the other region's bucket for " + region).anyMatch(name -> name.endsWith("base.zip"))
              .anyMatch(name -> name.endsWith(".gz"));
        }
        assertThat(LocalBackups.folder(config, dataDir, "us-west").redisBackups()).as("Redis goes with the first set")
            .hasSize(1);
        assertThat(LocalBackups.folder(config, dataDir, "us-east").redisBackups()).isEmpty();
      } finally {
        schedules.forEach(BackupSchedule::close);
      }
      // the commands read the defaults: three regions, of which eu-west has no server here
      assertThat(run("backup", "--data-dir", dataDir.toString())).isZero();
      assertThat(LocalBackups.folder(config, dataDir, "us-east").baseBackups()).hasSize(2);
      assertThat(run("backup", "list", "--data-dir", dataDir.toString())).isZero();
      BaseBackups.archiveCurrentWal(stores.postgresPort("us-east"), java.time.Duration.ofSeconds(30));
    }
    Path restored = dataDir.resolve("restored");
    assertThat(run("restore", "--region", "us-east", "--to", "latest", "--into", restored.toString(),
        "--data-dir", dataDir.toString())).isZero();
    assertThat(restored.resolve("PG_VERSION")).exists();
    assertThat(run("restore", "--to", "yesterday", "--into", dataDir.resolve("x").toString(), "--data-dir",
        dataDir.toString())).as("a bad time is the user's error").isEqualTo(2);
    // the operator's last step: the restored folder becomes the region's PostgreSQL
    Path next = Files.createDirectories(dataDir.resolve("next"));
    Files.move(restored, next.resolve("postgres-us-east"));
    try (EmbeddedStores again = EmbeddedStores.startRegional(next, Map.of("us-east", "genmesh_us_east"), List.of(), false,
        region -> LocalBackups.postgresSettings(defaults, next, region));
        var connection = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
            + again.postgresPort("us-east") + "/genmesh_us_east", "postgres", "");
        var row = connection.createStatement().executeQuery("SELECT NOT pg_is_in_recovery()")) {
      row.next();
      assertThat(row.getBoolean(1)).as("the region serves from the restored folder, writable").isTrue();
    }
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
