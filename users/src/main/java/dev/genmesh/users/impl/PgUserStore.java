package dev.genmesh.users.impl;

import dev.genmesh.protocol.Tier;
import dev.genmesh.users.ApiKey;
import dev.genmesh.users.Generation;
import dev.genmesh.users.GenerationPage;
import dev.genmesh.users.GpuUsage;
import dev.genmesh.users.IssuedKey;
import dev.genmesh.users.KeyGrant;
import dev.genmesh.users.User;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UsersFailure;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** {@link UserStore} on PostgreSQL: reads from {@code reads}, writes to {@code writes} (the same pool when one database serves both). */
public final class PgUserStore implements UserStore {
  private static final String UNIQUE_VIOLATION = "23505";
  private static final String USER_COLUMNS = "id, tiers, disabled_at, created_at";
  private static final String KEY_COLUMNS = "id, user_id, tiers, admin, created_at, revoked_at";

  private final UserDbPools pools;

  public PgUserStore(UserDbPools pools) {
    this.pools = pools;
  }

  /**
   * On the current primary; once more on the primary located again when the statement certainly did
   * not run (the primary unreachable, or it turned out a standby): a promotion happened.
   */
  private <T> Future<T> write(Function<Pool, Future<T>> statement) {
    return pools.writes().compose(statement).recover(failed -> {
      if (!(failed instanceof PgException) || UserDbPools.notExecuted(failed)) {
        pools.forgetPrimary(); // the connection failed, or it reached a standby: locate the primary on the next call
      }
      return UserDbPools.notExecuted(failed) ? pools.writes().compose(statement) : Future.failedFuture(failed);
    });
  }

  /** On the local copy, or the primary when the local copy cannot be reached. */
  private <T> Future<T> read(Function<Pool, Future<T>> statement) {
    return pools.reads().compose(statement).recover(failed -> pools.hasLocalCopy() && UserDbPools.notExecuted(failed)
        ? pools.writes().compose(statement) : Future.failedFuture(failed));
  }

  /** Where the admin API and the CLI read: the primary, so that they see their own writes at once. */
  private <T> Future<T> readOwnWrites(Function<Pool, Future<T>> statement) {
    return write(statement);
  }

  @Override
  public Future<Optional<KeyGrant>> grantFor(String presentedKey) {
    return read(pool -> pool.preparedQuery("SELECT k.id, k.user_id, k.tiers AS key_tiers, k.admin, u.tiers AS user_tiers"
            + " FROM api_keys k JOIN users u ON u.id = k.user_id"
            + " WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL")
        .execute(Tuple.of(KeySecrets.sha256(presentedKey))))
        .map(rows -> {
          if (rows.size() == 0) {
            return Optional.empty();
          }
          Row row = rows.iterator().next();
          List<String> tiers = new ArrayList<>(texts(row, "user_tiers"));
          String[] scope = row.getArrayOfStrings("key_tiers");
          if (scope != null && scope.length > 0) {
            tiers.retainAll(Arrays.asList(scope));
          }
          return Optional.of(new KeyGrant(row.getString("user_id"), row.getString("id"), tiers, row.getBoolean("admin")));
        });
  }

  @Override
  public Future<Optional<User>> user(String id) {
    return readOwnWrites(pool -> pool.preparedQuery("SELECT " + USER_COLUMNS + " FROM users WHERE id = $1").execute(Tuple.of(id)))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(user(rows.iterator().next())));
  }

  @Override
  public Future<List<User>> users() {
    return readOwnWrites(pool -> pool.query("SELECT " + USER_COLUMNS + " FROM users ORDER BY created_at, id").execute())
        .map(rows -> map(rows, PgUserStore::user));
  }

  @Override
  public Future<List<ApiKey>> keys(String userId) {
    Future<RowSet<Row>> rows = userId == null
        ? readOwnWrites(pool -> pool.query("SELECT " + KEY_COLUMNS + " FROM api_keys ORDER BY created_at, id").execute())
        : readOwnWrites(pool -> pool.preparedQuery("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE user_id = $1 ORDER BY created_at, id")
            .execute(Tuple.of(userId)));
    return rows.map(set -> map(set, PgUserStore::key));
  }

  @Override
  public Future<GenerationPage> generations(String userId, String cursor, int limit) {
    PageCursor after;
    try {
      after = cursor == null ? null : PageCursor.parse(cursor);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new UsersFailure(UsersFailure.Kind.INVALID, "cursor", "cursor is not one this API gave"));
    }
    String columns = "SELECT id, user_id, region, tier, status, created_at FROM generations WHERE user_id = $1";
    Future<RowSet<Row>> rows = after == null
        ? read(pool -> pool.preparedQuery(columns + " ORDER BY created_at DESC, id DESC LIMIT $2").execute(Tuple.of(userId, limit + 1)))
        : read(pool -> pool.preparedQuery(columns + " AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4")
            .execute(Tuple.of(userId, after.createdAt().atOffset(ZoneOffset.UTC), after.id(), limit + 1)));
    return rows.map(set -> {
      List<Generation> page = map(set, PgUserStore::generation);
      if (page.size() <= limit) {
        return new GenerationPage(page, null);
      }
      Generation last = page.get(limit - 1);
      return new GenerationPage(page.subList(0, limit), new PageCursor(last.createdAt(), last.id()).encode());
    });
  }

  @Override
  public Future<Optional<Generation>> generation(String requestId) {
    return read(pool -> pool.preparedQuery("SELECT id, user_id, region, tier, status, created_at FROM generations WHERE id = $1")
        .execute(Tuple.of(requestId)))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(generation(rows.iterator().next())));
  }

  @Override
  public Future<java.util.Map<String, Long>> generationCounts(String userId, Instant since) {
    return read(pool -> pool.preparedQuery("SELECT tier, count(*) AS n FROM generations WHERE user_id = $1 AND created_at >= $2"
            + " GROUP BY tier ORDER BY tier").execute(Tuple.of(userId, since.atOffset(ZoneOffset.UTC))))
        .map(rows -> {
          java.util.Map<String, Long> counts = new java.util.TreeMap<>();
          rows.forEach(row -> counts.put(row.getString("tier"), row.getLong("n")));
          return counts;
        });
  }

  @Override
  public Future<User> addUser(String id, List<String> tiers) {
    if (id == null || !id.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
      return invalid("id", "a user id is 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    if (id.equals("anonymous")) {
      return invalid("id", "'anonymous' is the local mode's caller without a key, not an account");
    }
    List<String> checked = tiers == null || tiers.isEmpty() ? Arrays.stream(Tier.values()).map(Tier::wireName).toList() : tiers;
    for (String tier : checked) {
      if (Tier.parse(tier).isEmpty()) {
        return invalid("tiers", "unknown tier '" + tier + "' (turbo, fast, relax)");
      }
    }
    return write(pool -> pool.preparedQuery("INSERT INTO users (id, tiers) VALUES ($1, $2) RETURNING " + USER_COLUMNS)
        .execute(Tuple.tuple().addString(id).addArrayOfString(checked.toArray(String[]::new))))
        .map(rows -> user(rows.iterator().next()))
        .recover(failed -> Future.failedFuture(isUniqueViolation(failed)
            ? new UsersFailure(UsersFailure.Kind.CONFLICT, "id", "user " + id + " exists already") : failed));
  }

  @Override
  public Future<User> disableUser(String id) {
    return write(pool -> pool.preparedQuery("UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1 RETURNING "
            + USER_COLUMNS).execute(Tuple.of(id)))
        .compose(rows -> rows.size() == 0 ? notFound("user " + id) : Future.succeededFuture(user(rows.iterator().next())));
  }

  @Override
  public Future<IssuedKey> issueKey(String userId, List<String> tiers, boolean admin) {
    for (String tier : tiers) {
      if (Tier.parse(tier).isEmpty()) {
        return invalid("tiers", "unknown tier '" + tier + "' (turbo, fast, relax)");
      }
    }
    String id = KeySecrets.newId();
    String secret = KeySecrets.newKey(id);
    // Only an enabled user gets a key: the INSERT ... SELECT inserts nothing otherwise.
    return write(pool -> pool.preparedQuery("INSERT INTO api_keys (id, user_id, key_sha256, tiers, admin)"
            + " SELECT $1, id, $3, $4, $5 FROM users WHERE id = $2 AND disabled_at IS NULL RETURNING " + KEY_COLUMNS)
        .execute(Tuple.tuple().addString(id).addString(userId).addString(KeySecrets.sha256(secret))
            .addArrayOfString(tiers.isEmpty() ? null : tiers.toArray(String[]::new)).addBoolean(admin)))
        .compose(rows -> rows.size() == 0
            ? notFound("enabled user " + userId)
            : Future.succeededFuture(new IssuedKey(key(rows.iterator().next()), secret)));
  }

  @Override
  public Future<ApiKey> revokeKey(String keyId) {
    return write(pool -> pool.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING "
            + KEY_COLUMNS).execute(Tuple.of(keyId)))
        .compose(rows -> rows.size() == 0 ? notFound("key " + keyId) : Future.succeededFuture(key(rows.iterator().next())));
  }

  @Override
  public Future<Void> recordGeneration(Generation g) {
    return write(pool -> pool.preparedQuery("INSERT INTO generations (id, user_id, region, tier, status, created_at)"
            + " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING")
        .execute(Tuple.of(g.id(), g.userId(), g.region(), g.tier(), g.status(), g.createdAt().atOffset(ZoneOffset.UTC))))
        .mapEmpty();
  }

  @Override
  public Future<Void> updateStatus(String requestId, String status, Instant seenAt) {
    return write(pool -> pool.preparedQuery("UPDATE generations SET status = $2, updated_at = $3 WHERE id = $1 AND status <> $2")
        .execute(Tuple.of(requestId, status, seenAt.atOffset(ZoneOffset.UTC))))
        .mapEmpty();
  }

  @Override
  public Future<GpuUsage> gpuUsage(String userId, Instant since) {
    OffsetDateTime from = since.atOffset(ZoneOffset.UTC);
    Future<Long> used = read(pool -> pool.preparedQuery("SELECT coalesce(sum(gpu_ms), 0) AS used FROM generations"
        + " WHERE user_id = $1 AND created_at >= $2 AND tier IN ('fast', 'turbo')").execute(Tuple.of(userId, from)))
        .map(rows -> rows.iterator().next().getLong("used"));
    Future<List<Generation>> pending = read(pool -> pool.preparedQuery("SELECT id, user_id, region, tier, status, created_at"
        + " FROM generations WHERE user_id = $1 AND created_at >= $2 AND tier IN ('fast', 'turbo') AND gpu_ms IS NULL"
        + " AND status NOT IN ('failed', 'cancelled') ORDER BY created_at LIMIT 200").execute(Tuple.of(userId, from)))
        .map(rows -> map(rows, PgUserStore::generation));
    Future<Long> quota = read(pool -> pool.preparedQuery("SELECT gpu_seconds_per_month FROM users WHERE id = $1")
        .execute(Tuple.of(userId))).map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
    return Future.all(used, pending, quota).map(v -> new GpuUsage(used.result(), pending.result(), quota.result()));
  }

  @Override
  public Future<Void> recordOutcome(String requestId, String status, Long gpuMs) {
    return write(pool -> pool.preparedQuery("UPDATE generations SET status = $2, gpu_ms = $3, updated_at = now()"
        + " WHERE id = $1 AND gpu_ms IS NULL").execute(Tuple.tuple().addString(requestId).addString(status).addLong(gpuMs)))
        .mapEmpty();
  }

  @Override
  public Future<User> setGpuQuota(String userId, Long secondsPerMonth) {
    if (secondsPerMonth != null && secondsPerMonth < 0) {
      return invalid("gpu_seconds_per_month", "a quota is 0 or more seconds, or null for the default");
    }
    return write(pool -> pool.preparedQuery("UPDATE users SET gpu_seconds_per_month = $2 WHERE id = $1 RETURNING "
            + USER_COLUMNS).execute(Tuple.tuple().addString(userId).addLong(secondsPerMonth)))
        .compose(rows -> rows.size() == 0 ? notFound("user " + userId) : Future.succeededFuture(user(rows.iterator().next())));
  }

  @Override
  public Future<Void> migrate() {
    return pools.writes().compose(UserSchema::apply);
  }

  @Override
  public Future<Void> close() {
    return pools.close();
  }

  private static <T> Future<T> invalid(String field, String message) {
    return Future.failedFuture(new UsersFailure(UsersFailure.Kind.INVALID, field, message));
  }

  private static <T> Future<T> notFound(String what) {
    return Future.failedFuture(new UsersFailure(UsersFailure.Kind.NOT_FOUND, null, "no " + what));
  }

  private static boolean isUniqueViolation(Throwable failed) {
    return failed instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState());
  }

  private static <T> List<T> map(RowSet<Row> rows, java.util.function.Function<Row, T> mapper) {
    List<T> out = new ArrayList<>(rows.size());
    rows.forEach(row -> out.add(mapper.apply(row)));
    return out;
  }

  private static User user(Row row) {
    return new User(row.getString("id"), texts(row, "tiers"), instant(row, "disabled_at"), instant(row, "created_at"));
  }

  private static ApiKey key(Row row) {
    return new ApiKey(row.getString("id"), row.getString("user_id"), texts(row, "tiers"), row.getBoolean("admin"),
        instant(row, "created_at"), instant(row, "revoked_at"));
  }

  private static Generation generation(Row row) {
    return new Generation(row.getString("id"), row.getString("user_id"), row.getString("region"), row.getString("tier"),
        row.getString("status"), instant(row, "created_at"));
  }

  private static List<String> texts(Row row, String column) {
    String[] values = row.getArrayOfStrings(column);
    return values == null ? List.of() : List.of(values);
  }

  private static Instant instant(Row row, String column) {
    Object value = row.getValue(column);
    if (value instanceof OffsetDateTime at) {
      return at.toInstant();
    }
    return value instanceof LocalDateTime local ? local.toInstant(ZoneOffset.UTC) : null;
  }
}
