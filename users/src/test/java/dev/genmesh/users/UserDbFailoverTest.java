package dev.genmesh.users;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.embedded.EmbeddedUserDb;
import dev.genmesh.testkit.Waits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The user database's primary is SIGKILLed (its postmaster and backends, as a crash) while clients
 * sign in (key lookups), create accounts, issue and revoke keys: the most advanced standby is
 * promoted, the other follows it, and every account and key whose write was acknowledged is there
 * afterwards, in both remaining regions; revoked keys stay revoked. Started again on the same data,
 * the lost primary is fenced (it comes back as a fresh standby of the promoted one).
 */
class UserDbFailoverTest {
  private static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");
  private static final String DATABASE = "genmesh_users";

  private Path dataDir;
  private EmbeddedUserDb db;
  private Vertx vertx;
  private UsersConfig config;
  private UserStore users;
  private UserDbWatch watch;

  @BeforeEach
  void start() throws IOException {
    dataDir = Files.createTempDirectory("genmesh-userdb-");
    db = EmbeddedUserDb.start(dataDir, REGIONS, "us-west", DATABASE, UsersConfig::standbyName, false);
    vertx = Vertx.vertx();
    config = configFor(db, "us-east");
    users = UserStores.open(vertx, config);
    Waits.await(users.migrate());
    watch = UserDbWatch.start(vertx, config, new SimpleMeterRegistry()).orElseThrow();
  }

  private static UsersConfig configFor(EmbeddedUserDb db, String localRegion) {
    Map<String, PostgresConfig> copies = new LinkedHashMap<>();
    db.ports().forEach((region, port) -> copies.put(region, new PostgresConfig("127.0.0.1", port, DATABASE, "postgres", "", 4)));
    return ConfigLoader.defaults().users().withDatabases("us-west", copies, localRegion, 1_500);
  }

  @AfterEach
  void stop() throws IOException {
    if (watch != null) {
      Waits.await(watch.close());
    }
    if (users != null) {
      Waits.await(users.close());
    }
    Waits.await(vertx.close());
    if (db != null) {
      db.close();
    }
    try (var paths = Files.walk(dataDir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  @Test
  void aKilledPrimaryIsReplacedByAStandbyWithEveryAcknowledgedKeyAndRevocation() throws Exception {
    // Synchronous: both standbys stream, as a quorum of which one must hold each commit.
    assertThat(primarySyncStates()).containsOnly("quorum").hasSize(2);

    Map<String, String> issued = new ConcurrentHashMap<>(); // secret -> key id, acknowledged
    Map<String, String> revoked = new ConcurrentHashMap<>();
    java.util.Set<String> uncertain = ConcurrentHashMap.newKeySet();
    List<String> accounts = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failures = new AtomicInteger();
    AtomicLong issuedAfterKill = new AtomicLong();
    AtomicLong firstAfterKill = new AtomicLong();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService load = Executors.newFixedThreadPool(3);
    for (int t = 0; t < 3; t++) {
      int thread = t;
      load.submit(() -> {
        for (int i = 0; running.get(); i++) {
          try {
            String user = "u" + thread + "-" + i;
            Waits.await(10, users.addUser(user, List.of()));
            accounts.add(user);
            IssuedKey key = Waits.await(10, users.issueKey(user, List.of(), false));
            issued.put(key.secret(), key.key().id());
            if (killed.get() && issuedAfterKill.incrementAndGet() == 1) {
              firstAfterKill.set(System.nanoTime());
            }
            if (i % 4 == 0) {
              uncertain.add(key.secret()); // a revoke not acknowledged may or may not have happened
              Waits.await(10, users.revokeKey(key.key().id()));
              revoked.put(key.secret(), key.key().id());
              uncertain.remove(key.secret());
            }
            // Sign-in: the edge's lookup, on the local copy.
            Waits.await(10, users.grantFor(key.secret()));
          } catch (RuntimeException | AssertionError e) {
            if (failures.incrementAndGet() <= 5) { // while no primary answers: the client is told, nothing is acknowledged
              System.out.println("while failing over: " + e);
            }
            sleep(50);
          }
        }
      });
    }
    Waits.eventually(30, () -> issued.size() >= 30, "30 keys issued before the kill");

    long killedAt = System.nanoTime();
    db.kill("us-west");
    killed.set(true);
    try {
      Waits.eventually(60, () -> issuedAfterKill.get() >= 30, "30 keys issued after the primary was killed");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n" + serverLogs(), e);
    }
    running.set(false);
    load.shutdown();
    assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

    long recoveredMs = (firstAfterKill.get() - killedAt) / 1_000_000;
    UserDbPromotion.Outcome promotion = watch.lastPromotion().orElseThrow();
    assertThat(promotion.promoted()).isIn("us-east", "eu-west");
    String other = promotion.promoted().equals("us-east") ? "eu-west" : "us-east";
    assertThat(promotion.following()).containsExactly(other);
    System.out.printf("user database failover: first key issued %d ms after the SIGKILL (promotion itself %d ms),"
        + " %d calls failed meanwhile, %d keys issued, %d revoked%n", recoveredMs, promotion.tookMs(), failures.get(),
        issued.size(), revoked.size());

    // Every acknowledged key works (unless revoked) on each remaining copy: the promoted one and its new standby.
    for (String region : List.of(promotion.promoted(), other)) {
      UserStore local = UserStores.open(vertx, config.withDatabases("us-west", config.databases(), region, 0));
      try {
        Waits.eventually(20, () -> issued.keySet().stream().filter(secret -> !uncertain.contains(secret)).allMatch(secret ->
            Waits.await(local.grantFor(secret)).isPresent() != revoked.containsKey(secret)),
            "every acknowledged key works and every revoked one does not, on " + region);
        assertThat(Waits.await(local.users())).extracting(User::id).containsAll(accounts);
      } finally {
        Waits.await(local.close());
      }
    }

    // Started again on the same data: the promoted copy stays the primary, the killed one is fenced.
    Waits.await(watch.close());
    watch = null;
    Waits.await(users.close());
    users = null;
    db.close();
    db = EmbeddedUserDb.start(dataDir, REGIONS, "us-west", DATABASE, UsersConfig::standbyName, false);
    assertThat(db.startedPrimary()).isEqualTo(promotion.promoted());
    try (var dirs = Files.list(dataDir)) {
      assertThat(dirs.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("postgres-users-us-west.fenced-"));
    }
    users = UserStores.open(vertx, configFor(db, "us-west"));
    Waits.eventually(20, () -> issued.keySet().stream().filter(secret -> !uncertain.contains(secret)).allMatch(secret ->
        Waits.await(users.grantFor(secret)).isPresent() != revoked.containsKey(secret)),
        "every acknowledged key as it was, read on us-west's fresh standby");
    assertThat(Waits.await(users.issueKey(accounts.get(0), List.of(), false)).secret()).startsWith("gmk_");
  }

  /** The primary's view of its standbys: {@code quorum} each, under {@code ANY 1}. */
  private List<String> primarySyncStates() throws java.sql.SQLException {
    String url = "jdbc:postgresql://127.0.0.1:" + db.ports().get(db.startedPrimary()) + "/postgres";
    List<String> states = new ArrayList<>();
    try (var conn = java.sql.DriverManager.getConnection(url, "postgres", "");
        var rows = conn.createStatement().executeQuery("SELECT sync_state FROM pg_stat_replication")) {
      while (rows.next()) {
        states.add(rows.getString(1));
      }
    }
    return states;
  }

  /** The end of each server's own log, for a failure's message. */
  private String serverLogs() {
    StringBuilder out = new StringBuilder();
    for (String region : REGIONS) {
      try {
        List<String> lines = Files.readAllLines(dataDir.resolve("postgres-users-" + region + ".log"));
        out.append("--- ").append(region).append('\n')
            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()))).append('\n');
      } catch (IOException e) {
        out.append("--- ").append(region).append(": no log\n");
      }
    }
    return out.toString();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
