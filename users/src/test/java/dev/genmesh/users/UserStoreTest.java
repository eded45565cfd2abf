package dev.genmesh.users;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The user database on a real PostgreSQL: accounts, keys (stored only hashed), scopes, revocation, the generation index. */
@ExtendWith(StoresExtension.class)
class UserStoreTest {
  private Vertx vertx;
  private TestStores stores;
  private String database;
  private UserStore users;

  @BeforeEach
  void open(TestStores stores) {
    this.stores = stores;
    vertx = Vertx.vertx();
    database = stores.createDatabase();
    users = UserStores.open(vertx, ConfigLoader.defaults().users().withDatabase(
        new PostgresConfig("127.0.0.1", stores.postgresPort(), database, "postgres", "", 2)));
    Waits.await(users.migrate());
  }

  @AfterEach
  void close() {
    Waits.await(users.close());
    Waits.await(vertx.close());
  }

  @Test
  void anIssuedKeyGrantsItsScopeUntilRevokedAndOnlyItsHashIsStored() {
    Waits.await(users.addUser("alice", List.of("fast", "relax")));
    IssuedKey full = Waits.await(users.issueKey("alice", List.of(), false));
    IssuedKey relaxOnly = Waits.await(users.issueKey("alice", List.of("relax", "turbo"), true));

    assertThat(full.secret()).startsWith("gmk_" + full.key().id() + "_");
    assertThat(full.toString()).doesNotContain(full.secret());
    KeyGrant grant = Waits.await(users.grantFor(full.secret())).orElseThrow();
    assertThat(grant.userId()).isEqualTo("alice");
    assertThat(grant.tiers()).containsExactly("fast", "relax");
    assertThat(grant.admin()).isFalse();
    // A key's scope never reaches past its user's entitlement (turbo).
    KeyGrant scoped = Waits.await(users.grantFor(relaxOnly.secret())).orElseThrow();
    assertThat(scoped.tiers()).containsExactly("relax");
    assertThat(scoped.admin()).isTrue();
    assertThat(Waits.await(users.grantFor(full.secret() + "x"))).isEmpty();
    String stored = stores.query(database, "SELECT string_agg(id || key_sha256, ',') AS all_keys FROM api_keys")
        .get(0).get("all_keys").toString();
    assertThat(stored).doesNotContain(full.secret().substring(20)).doesNotContain(relaxOnly.secret().substring(20));

    Waits.await(users.revokeKey(full.key().id()));

    assertThat(Waits.await(users.grantFor(full.secret()))).isEmpty();
    assertThat(Waits.await(users.grantFor(relaxOnly.secret()))).isPresent();
    assertThat(Waits.await(users.keys("alice"))).extracting(ApiKey::revoked).containsExactly(true, false);
  }

  @Test
  void aDisabledUserHasNoWorkingKeyAndGetsNoNewOne() {
    Waits.await(users.addUser("bob", List.of()));
    IssuedKey key = Waits.await(users.issueKey("bob", List.of(), false));

    User disabled = Waits.await(users.disableUser("bob"));

    assertThat(disabled.enabled()).isFalse();
    assertThat(Waits.await(users.grantFor(key.secret()))).isEmpty();
    assertThat(failure(users.issueKey("bob", List.of(), false)).kind()).isEqualTo(UsersFailure.Kind.NOT_FOUND);
  }

  @Test
  void mistakesAreRefusedByKind() {
    Waits.await(users.addUser("carol", List.of("turbo")));

    assertThat(failure(users.addUser("carol", List.of())).kind()).isEqualTo(UsersFailure.Kind.CONFLICT);
    assertThat(failure(users.addUser("Not Valid", List.of())).kind()).isEqualTo(UsersFailure.Kind.INVALID);
    assertThat(failure(users.addUser("dave", List.of("ultra"))).field()).isEqualTo("tiers");
    assertThat(failure(users.revokeKey("000000000000")).kind()).isEqualTo(UsersFailure.Kind.NOT_FOUND);
    assertThat(failure(users.generations("carol", "not a cursor!", 10)).kind()).isEqualTo(UsersFailure.Kind.INVALID);
    assertThat(Waits.await(users.users())).extracting(User::id).containsExactly("carol");
  }

  @Test
  void generationsArePagedNewestFirstPerUser() {
    Instant start = Instant.parse("2026-12-07T10:00:00Z");
    for (int i = 0; i < 5; i++) {
      Waits.await(users.recordGeneration(new Generation("usw_" + i, "erin", "us-west", "fast", "queued", start.plusSeconds(i))));
    }
    Waits.await(users.recordGeneration(new Generation("use_x", "frank", "us-east", "fast", "queued", start)));
    Waits.await(users.recordGeneration(new Generation("usw_4", "erin", "us-west", "fast", "queued", start))); // a repeat
    Waits.await(users.updateStatus("usw_3", "completed", start.plusSeconds(60)));

    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      GenerationPage page = Waits.await(users.generations("erin", cursor, 2));
      page.generations().forEach(g -> seen.add(g.id() + ":" + g.status()));
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null);

    assertThat(seen).containsExactly("usw_4:queued", "usw_3:completed", "usw_2:queued", "usw_1:queued", "usw_0:queued");
    assertThat(pages).isEqualTo(3);
    assertThat(Waits.await(users.generations("frank", null, 10)).generations()).extracting(Generation::region)
        .containsExactly("us-east");
  }

  @Test
  void migratingTwiceChangesNothing() {
    Waits.await(users.migrate());
    // Each migration once: V1__users, V2__gpu_usage.
    assertThat(stores.query(database, "SELECT count(*) AS n FROM user_schema")).containsExactly(Map.of("n", 2L));
  }

  private static UsersFailure failure(io.vertx.core.Future<?> future) {
    Throwable failed = Waits.failure(future);
    assertThat(failed).isInstanceOf(UsersFailure.class);
    return (UsersFailure) failed;
  }
}
