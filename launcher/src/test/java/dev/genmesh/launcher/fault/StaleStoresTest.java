package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.embedded.StaleStoreProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded stores of {@code genmesh up} are child processes: a {@code kill -9} of the JVM
 * leaves them running on its data directory. The next start stops them (found through their
 * pid files) and starts on the same data, with nothing lost; a directory a live run still
 * uses is refused instead.
 */
class StaleStoresTest {
  private static final String DATABASE = StoresChild.DATABASE;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void storesLeftRunningByAKilledJvmAreStoppedOnTheNextStartAndTheirDataKept() throws Exception {
    Path data = dir.resolve("data");
    children.onCleanup(() -> StaleStoreProcesses.stop(data)); // whatever happens, no store outlives the test
    ChildProcess first = children.java("first-run", List.of("-Xmx128m", "-XX:+UseSerialGC"), StoresChild.class.getName(),
        List.of(data.toString()));
    first.awaitLine(Pattern.compile("^READY "), Duration.ofSeconds(120));
    long postmaster = pidIn(data.resolve("postgres/postmaster.pid"));
    long redis = pidIn(data.resolve("redis/redis.pid"));
    assertThatThrownBy(() -> EmbeddedStores.start(data, List.of(DATABASE), true))
        .as("a second start while the first run lives").hasMessageContaining("in use by another running genmesh");
    assertThat(alive(postmaster) && alive(redis)).as("the live run's stores are left alone").isTrue();

    first.kill();
    assertThat(alive(postmaster)).as("PostgreSQL outlives its killed JVM").isTrue();
    assertThat(alive(redis)).as("Redis outlives its killed JVM").isTrue();

    try (EmbeddedStores stores = EmbeddedStores.start(data, List.of(DATABASE), true)) {
      assertThat(alive(postmaster)).as("the leftover PostgreSQL is stopped").isFalse();
      assertThat(alive(redis)).as("the leftover Redis is stopped").isFalse();
      assertThat(query(stores.postgresPort(), "SELECT text FROM marks")).isEqualTo(StoresChild.MARK);
      assertThat(RedisCommand.run(stores.redisPort(), "GET", "mark")).as("Redis data (append-only file)")
          .isEqualTo(StoresChild.MARK);
    }
  }

  @Test
  void aPidFileThatNamesAnUnrelatedProcessLeavesThatProcessAloneAndDoesNotBlockTheStart() throws Exception {
    Path data = dir.resolve("data");
    EmbeddedStores.start(data, List.of(DATABASE), false).close(); // an initialised data directory, stopped cleanly
    ChildProcess bystander = children.start("bystander", List.of("sleep", "300"));
    // As after a reboot: the old pid now belongs to some other program. PostgreSQL alone would refuse to start.
    Files.writeString(data.resolve("postgres/postmaster.pid"), bystander.pid() + "\n" + data.resolve("postgres") + "\n");
    Files.writeString(data.resolve("redis/redis.pid"), bystander.pid() + "\n");

    try (EmbeddedStores stores = EmbeddedStores.start(data, List.of(DATABASE), false)) {
      assertThat(query(stores.postgresPort(), "SELECT 'up'")).isEqualTo("up");
      assertThat(RedisCommand.run(stores.redisPort(), "PING")).isEqualTo("PONG");
    }
    assertThat(bystander.isAlive()).as("the unrelated process is left alone").isTrue();
  }

  private static long pidIn(Path pidFile) throws IOException {
    return Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static String query(int port, String sql) throws SQLException {
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    try (Connection connection = DriverManager.getConnection(url, "postgres", "");
        ResultSet rows = connection.createStatement().executeQuery(sql)) {
      assertThat(rows.next()).as("a row from %s", sql).isTrue();
      return rows.getString(1);
    }
  }
}
