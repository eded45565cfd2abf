package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code genmesh users ...} and {@code genmesh keys ...} against a real user database (embedded PostgreSQL). */
@ExtendWith(StoresExtension.class)
class AccountCommandsTest {
  private static final Pattern KEY = Pattern.compile("gmk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}");

  private TestStores stores;
  private String database;
  private Path config;
  private Vertx vertx;
  private UserStore users;

  /** What one command printed and how it ended. */
  private record Run(int code, String out, String err) {}

  @BeforeEach
  void setUp(TestStores stores, @TempDir Path dir) throws Exception {
    this.stores = stores;
    database = stores.createDatabase();
    config = dir.resolve("genmesh.yaml");
    Files.writeString(config, "users:\n  databases:\n    us-west: {host: 127.0.0.1, port: " + stores.postgresPort()
        + ", database: " + database + ", user: postgres, pool_size: 2}\n");
    vertx = Vertx.vertx();
    users = UserStores.open(vertx, ConfigLoader.load(config, Map.of()).users());
  }

  @AfterEach
  void tearDown() {
    Waits.await(users.close());
    Waits.await(vertx.close());
  }

  @Test
  void usersAndKeysAreManagedFromTheCommandLineAndAKeyIsShownOnceOnly() {
    assertThat(run("users", "add", "alice", "--tiers", "fast,relax").out()).contains("user alice added, tiers fast, relax");
    Run issued = run("keys", "issue", "--user", "alice", "--tiers", "relax");
    Matcher key = KEY.matcher(issued.out());
    assertThat(key.find()).as(issued.out()).isTrue();
    String secret = key.group();
    String keyId = key.group(1);

    assertThat(Waits.await(users.grantFor(secret))).hasValueSatisfying(grant -> {
      assertThat(grant.userId()).isEqualTo("alice");
      assertThat(grant.tiers()).containsExactly("relax");
    });
    Run keys = run("keys", "list", "--user", "alice");
    assertThat(keys.out()).contains(keyId).contains("active").doesNotContain(secret).doesNotContain(secret.substring(17));
    assertThat(stores.query(database, "SELECT count(*) AS n FROM api_keys WHERE key_sha256 LIKE '%' || ? || '%'",
        secret.substring(17, 30)).get(0).get("n")).isEqualTo(0L);

    assertThat(run("keys", "revoke", keyId).out()).contains("key " + keyId + " of alice revoked");
    assertThat(Waits.await(users.grantFor(secret))).isEmpty();
    assertThat(run("keys", "list").out()).contains("revoked");

    String second = matchKey(run("keys", "issue", "--user", "alice", "--admin").out());
    assertThat(Waits.await(users.grantFor(second)).orElseThrow().admin()).isTrue();
    assertThat(run("users", "disable", "alice").out()).contains("user alice disabled");
    assertThat(Waits.await(users.grantFor(second))).isEmpty();
    assertThat(run("users", "list").out()).containsPattern("alice\\s+disabled\\s+fast,relax");
  }

  @Test
  void mistakesEndWithAMessageAndExitCode1() {
    run("users", "add", "bob");

    Run again = run("users", "add", "bob");
    Run badTier = run("users", "add", "carol", "--tiers", "ultra");
    Run nobody = run("keys", "issue", "--user", "nobody");

    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).contains("user bob exists already");
    assertThat(badTier.code()).isEqualTo(1);
    assertThat(badTier.err()).contains("unknown tier 'ultra'");
    assertThat(nobody.code()).isEqualTo(1);
    assertThat(nobody.err()).contains("no enabled user nobody");
    assertThat(run("users", "list").out()).contains("bob").doesNotContain("carol");
  }

  private static String matchKey(String text) {
    Matcher key = KEY.matcher(text);
    assertThat(key.find()).as(text).isTrue();
    return key.group();
  }

  private Run run(String... args) {
    String[] withConfig = new String[args.length + 2];
    System.arraycopy(args, 0, withConfig, 0, args.length);
    withConfig[args.length] = "--config";
    withConfig[args.length + 1] = config.toString();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    PrintStream original = System.out;
    int code;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      CommandLine cmd = new CommandLine(new Main()).setErr(new PrintWriter(err, true));
      code = cmd.setExecutionExceptionHandler((e, c, parsed) -> {
        c.getErr().println("genmesh: " + e.getMessage());
        return 1;
      }).execute(withConfig);
    } finally {
      System.setOut(original);
    }
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
  }
}
