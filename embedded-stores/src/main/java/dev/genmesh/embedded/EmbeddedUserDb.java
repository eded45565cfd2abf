package dev.genmesh.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user database of {@code genmesh up} as production runs it: its own PostgreSQL server per
 * region ({@code <dataDir>/postgres-users-<region>}), one primary and a physical streaming standby
 * of it in every other region, the primary committing only once one standby holds the commit
 * ({@code synchronous_standby_names = 'ANY 1 (...)'}, {@code synchronous_commit=on}).
 *
 * <p>Which server is the primary is read from the data, not from a file: the one that is not a
 * standby ({@code standby.signal}) with the highest timeline (a promotion starts a new one), the
 * configured primary on a tie. A former primary found beside a newer one (it was lost, a standby
 * was promoted) is fenced: its directory is moved aside ({@code .fenced-<epoch s>}) and the region
 * gets a fresh standby of the current primary, so it can never take writes again.
 */
public final class EmbeddedUserDb implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedUserDb.class);
  static final String DIR_PREFIX = "postgres-users-";
  private static final Duration STARTUP_WAIT = Duration.ofSeconds(90);

  private final Path dataDir;
  private final String primary;
  private final Map<String, EmbeddedPostgres> servers;
  private final Map<String, EmbeddedPostgres> killed = new LinkedHashMap<>();

  private EmbeddedUserDb(Path dataDir, String primary, Map<String, EmbeddedPostgres> servers) {
    this.dataDir = dataDir;
    this.primary = primary;
    this.servers = servers;
  }

  /**
   * Starts a server per region under {@code dataDir}, creating the primary, {@code database} in it
   * and the standbys on first use.
   *
   * @param regions the regions in config order
   * @param configuredPrimary the primary on first start (and on a tie of timelines)
   * @param standbyName region → its replication name ({@code application_name} and slot name)
   * @param durable fsync on; {@code synchronous_commit} is on either way (it is what makes a
   *     commit wait for a standby)
   */
  public static EmbeddedUserDb start(Path dataDir, List<String> regions, String configuredPrimary, String database,
      Function<String, String> standbyName, boolean durable) {
    Map<String, EmbeddedPostgres> servers = new LinkedHashMap<>();
    try {
      String primary = currentPrimary(dataDir, regions, configuredPrimary);
      EmbeddedPostgres main = startServer(dataDir, primary, durable);
      servers.put(primary, main);
      EmbeddedStores.createDatabases(main, List.of(database));
      for (String region : regions) {
        if (region.equals(primary)) {
          continue;
        }
        Path dir = dirOf(dataDir, region);
        if (Files.exists(dir.resolve("PG_VERSION")) && !Files.exists(dir.resolve("standby.signal"))) {
          Path aside = dir.resolveSibling(dir.getFileName() + ".fenced-" + System.currentTimeMillis() / 1000);
          LOG.warn("user database: {} was the primary before {} was promoted; fencing it (moved to {}) and making {}"
              + " a fresh standby", region, primary, aside, region);
          Files.move(dir, aside);
        }
        if (!Files.exists(dir.resolve("PG_VERSION"))) {
          LOG.info("user database: cloning the primary ({}) into a standby for {}", primary, region);
          StandbyClone.clone(main, standbyName.apply(region), dir);
        }
        try (Connection conn = main.getPostgresDatabase().getConnection()) {
          StandbyClone.createSlot(conn, standbyName.apply(region));
        }
        writeStandbyConfig(dir, main.getPort(), standbyName.apply(region), syncNames(regions, region, standbyName));
        servers.put(region, startServer(dataDir, region, durable));
      }
      try (Connection conn = main.getPostgresDatabase().getConnection(); Statement statement = conn.createStatement()) {
        statement.execute("ALTER SYSTEM SET synchronous_standby_names = '" + syncNames(regions, primary, standbyName) + "'");
        statement.execute("SELECT pg_reload_conf()");
      }
      LOG.info("user database: primary {} on 127.0.0.1:{}, standbys {}", primary, main.getPort(),
          servers.entrySet().stream().filter(e -> !e.getKey().equals(primary))
              .map(e -> e.getKey() + " on 127.0.0.1:" + e.getValue().getPort()).toList());
      return new EmbeddedUserDb(dataDir, primary, servers);
    } catch (IOException | SQLException | RuntimeException e) {
      servers.values().forEach(EmbeddedUserDb::closeQuietly);
      throw e instanceof IOException io ? new UncheckedIOException(io) : new IllegalStateException(
          "cannot start the user database: " + e.getMessage(), e);
    }
  }

  /** {@code ANY 1 (the others)}: what a primary in {@code region} waits for; empty with one region. */
  static String syncNames(List<String> regions, String region, Function<String, String> standbyName) {
    List<String> others = regions.stream().filter(r -> !r.equals(region)).map(standbyName).toList();
    return others.isEmpty() ? "" : "ANY 1 (" + String.join(", ", others) + ")";
  }

  /** The primary as the data says (see the class comment). */
  static String currentPrimary(Path dataDir, List<String> regions, String configured) throws IOException {
    String best = null;
    int bestTimeline = 0;
    for (String region : regions) {
      Path dir = dirOf(dataDir, region);
      if (!Files.exists(dir.resolve("PG_VERSION")) || Files.exists(dir.resolve("standby.signal"))) {
        continue;
      }
      int timeline = timeline(dir);
      if (timeline > bestTimeline || (timeline == bestTimeline && region.equals(configured))) {
        best = region;
        bestTimeline = timeline;
      }
    }
    return best == null ? configured : best;
  }

  /** The server's timeline: the highest {@code pg_wal/<8 hex>.history} (a promotion writes one), else 1. */
  static int timeline(Path dir) throws IOException {
    int highest = 1;
    Path wal = dir.resolve("pg_wal");
    if (!Files.isDirectory(wal)) {
      return highest;
    }
    try (var files = Files.list(wal)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.matches("[0-9A-F]{8}\\.history")) {
          highest = Math.max(highest, Integer.parseInt(name.substring(0, 8), 16));
        }
      }
    }
    return highest;
  }

  /** The standby's settings, written while it is stopped (they are not on the command line, so a promotion may change them). */
  private static void writeStandbyConfig(Path dir, int primaryPort, String name, String syncNames) throws IOException {
    Files.writeString(dir.resolve("standby.signal"), "");
    Files.writeString(dir.resolve("postgresql.auto.conf"), "# written by genmesh (EmbeddedUserDb) at each start\n"
        + "primary_conninfo = 'host=127.0.0.1 port=" + primaryPort + " user=postgres application_name=" + name + "'\n"
        + "primary_slot_name = '" + name + "'\n"
        + "recovery_target_timeline = 'latest'\n"
        // What it waits for once promoted: one of the others.
        + "synchronous_standby_names = '" + syncNames + "'\n");
  }

  private static EmbeddedPostgres startServer(Path dataDir, String region, boolean durable) throws IOException {
    Path dir = dirOf(dataDir, region);
    Files.createDirectories(dir.getParent());
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(dir)
        .setCleanDataDirectory(false)
        .setPort(EmbeddedStores.freePort())
        .setPGStartupWait(STARTUP_WAIT)
        .setServerConfig("fsync", durable ? "on" : "off")
        .setServerConfig("full_page_writes", durable ? "on" : "off")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("max_connections", "100")
        .setServerConfig("max_wal_senders", "10")
        .setServerConfig("max_replication_slots", "10")
        .setServerConfig("wal_sender_timeout", "5s")
        .setServerConfig("wal_receiver_timeout", "5s")
        .setServerConfig("wal_retrieve_retry_interval", "500ms")
        .setOutputRedirector(ProcessBuilder.Redirect.appendTo(dataDir.resolve(DIR_PREFIX + region + ".log").toFile()))
        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(dataDir.resolve(DIR_PREFIX + region + ".log").toFile()))
        .setRegisterShutdownHook(false);
    return builder.start();
  }

  static Path dirOf(Path dataDir, String region) {
    return dataDir.resolve(DIR_PREFIX + region);
  }

  /** The region whose server was the primary when this started (a promotion since is the database's business). */
  public String startedPrimary() {
    return primary;
  }

  /** Region → the port of its server (all on 127.0.0.1). */
  public Map<String, Integer> ports() {
    Map<String, Integer> ports = new LinkedHashMap<>();
    servers.forEach((region, pg) -> ports.put(region, pg.getPort()));
    killed.forEach((region, pg) -> ports.put(region, pg.getPort()));
    return ports;
  }

  /** The region's server's process id (its postmaster), if it runs. */
  public Optional<Long> pid(String region) {
    try {
      return Optional.of(Long.parseLong(Files.readAllLines(dirOf(dataDir, region).resolve("postmaster.pid")).get(0).strip()))
          .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    } catch (IOException | IndexOutOfBoundsException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** SIGKILL of the region's postmaster and all its backends, as a crash would; returns once they are gone. */
  public void kill(String region) {
    pid(region).flatMap(ProcessHandle::of).ifPresent(postmaster -> {
      List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
      all.add(0, postmaster);
      all.forEach(ProcessHandle::destroyForcibly);
      all.forEach(p -> p.onExit().join());
    });
    EmbeddedPostgres server = servers.remove(region);
    if (server != null) {
      killed.put(region, server);
    }
  }

  /** Stops the standbys first, then the primary (a primary stopping first would leave them retrying). */
  @Override
  public void close() {
    List<String> order = new ArrayList<>(servers.keySet());
    order.remove(primary);
    order.add(primary);
    order.stream().map(servers::get).filter(java.util.Objects::nonNull).forEach(EmbeddedUserDb::closeQuietly);
    killed.values().forEach(EmbeddedUserDb::closeQuietly);
  }

  private static void closeQuietly(EmbeddedPostgres pg) {
    try {
      pg.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("a user database server did not stop cleanly: {}", e.toString());
    }
  }
}
