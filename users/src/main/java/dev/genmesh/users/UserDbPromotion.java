package dev.genmesh.users;

import dev.genmesh.config.RegionConfig.PostgresConfig;
import dev.genmesh.config.UsersConfig;
import dev.genmesh.users.impl.UserDbPools;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Promotes a standby of the user database when its primary is lost (docs/architecture.md, "The user
 * database"). The primary commits only once ANY 1 of the standbys holds a commit, so every
 * acknowledged write is on at least one of them: with every standby reachable, the one that
 * received the most WAL holds every acknowledged write, and it is the one promoted. The others are
 * re-pointed at it (they follow the new timeline; none is ahead of it). A standby that cannot be
 * reached may hold the only copy of the last commits, so without all of them the promotion is
 * refused unless forced (then what only the unreachable one held may be lost: the operator's
 * call). A former primary that is still running but cut off cannot acknowledge anything any more:
 * its standbys now follow the new primary and its commits wait for a standby forever.
 */
public final class UserDbPromotion {
  private static final Logger LOG = LoggerFactory.getLogger(UserDbPromotion.class);
  private static final int PROMOTE_WAIT_S = 60;

  /** What a promotion did: the new primary, the standbys now following it, and how long it took. */
  public record Outcome(String promoted, List<String> following, long tookMs) {}

  private UserDbPromotion() {}

  /**
   * Promotes {@code region}'s standby (empty: the most advanced one).
   *
   * @param force promote even when some standby cannot be reached (may lose what only it held)
   */
  public static Future<Outcome> promote(Vertx vertx, UsersConfig users, Optional<String> region, boolean force) {
    UserDbPools pools = UserStores.pools(vertx, users);
    return promote(pools, users, region, force).eventually(pools::close);
  }

  static Future<Outcome> promote(UserDbPools pools, UsersConfig users, Optional<String> region, boolean force) {
    long start = System.nanoTime();
    return pools.states().compose(states -> {
      Optional<String> primary = states.entrySet().stream().filter(e -> !e.getValue().standby()).map(Map.Entry::getKey)
          .findFirst();
      if (primary.isPresent()) {
        return refuse(primary.get() + " is a running primary: nothing to promote (stop it first for a switch-over)");
      }
      // The lost primary is one of the copies not answering; any other is a standby we cannot read.
      List<String> missing = users.databases().keySet().stream().filter(r -> !states.containsKey(r)).sorted().toList();
      List<String> standbys = new ArrayList<>(states.keySet());
      if (standbys.isEmpty()) {
        return refuse("no standby of the user database can be reached");
      }
      String best = standbys.stream().max((a, b) -> Long.compare(states.get(a).walPosition(), states.get(b).walPosition()))
          .orElseThrow();
      String target = region.orElse(best);
      if (!states.containsKey(target)) {
        return refuse(target + " is not a reachable standby (reachable: " + standbys + ")");
      }
      if (!force && states.get(target).walPosition() < states.get(best).walPosition()) {
        return refuse(target + " received less WAL than " + best + ": promoting it could lose acknowledged writes"
            + " (promote " + best + ", or force)");
      }
      if (!force && missing.size() > 1) {
        return refuse(missing + " cannot be reached: a standby among them may hold the only copy of the last"
            + " acknowledged writes (bring them back, or force)");
      }
      LOG.warn("user database: promoting {} (received WAL up to {}; standbys reached: {})", target,
          states.get(target).walPosition(), standbys);
      Pool newPrimary = pools.copies().get(target);
      return newPrimary.preparedQuery("SELECT pg_promote(true, $1) AS done").execute(Tuple.of(PROMOTE_WAIT_S))
          .compose(rows -> Boolean.TRUE.equals(rows.iterator().next().getBoolean("done")) ? Future.succeededFuture()
              : refuse(target + " did not finish its promotion within " + PROMOTE_WAIT_S + " s"))
          .compose(v -> follow(pools, users, target, standbys))
          .map(following -> {
            pools.forgetPrimary();
            long took = (System.nanoTime() - start) / 1_000_000;
            LOG.warn("user database: {} is the primary now (took {} ms); following it: {}", target, took, following);
            return new Outcome(target, following, took);
          });
    });
  }

  /** Slots on the new primary for the other standbys, then each re-pointed at it. */
  private static Future<List<String>> follow(UserDbPools pools, UsersConfig users, String target, List<String> standbys) {
    Pool primary = pools.copies().get(target);
    PostgresConfig at = users.databases().get(target);
    List<String> others = standbys.stream().filter(r -> !r.equals(target)).toList();
    List<String> allOthers = users.databases().keySet().stream().filter(r -> !r.equals(target)).sorted().toList();
    String syncNames = allOthers.isEmpty() ? "" : "ANY 1 (" + String.join(", ",
        allOthers.stream().map(UsersConfig::standbyName).toList()) + ")";
    Future<Void> chain = primary.query("ALTER SYSTEM SET synchronous_standby_names = '" + syncNames + "'").execute()
        .compose(v -> primary.query("SELECT pg_reload_conf()").execute()).mapEmpty();
    List<String> following = new ArrayList<>();
    for (String other : others) {
      String name = UsersConfig.standbyName(other);
      Pool standby = pools.copies().get(other);
      String conninfo = "host=" + at.host() + " port=" + at.port() + " user=" + at.user() + " application_name=" + name
          + (at.password().isBlank() ? "" : " password=" + at.password());
      chain = chain
          .compose(v -> primary.preparedQuery("SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS"
              + " (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)").execute(Tuple.of(name)))
          .compose(v -> standby.query("ALTER SYSTEM SET primary_conninfo = '" + conninfo.replace("'", "''") + "'").execute())
          .compose(v -> standby.query("ALTER SYSTEM SET primary_slot_name = '" + name + "'").execute())
          .compose(v -> standby.query("SELECT pg_reload_conf()").execute())
          .map(v -> {
            following.add(other);
            return (Void) null;
          });
    }
    return chain.map(v -> List.copyOf(following));
  }

  private static <T> Future<T> refuse(String why) {
    return Future.failedFuture(new IllegalStateException("not promoting: " + why));
  }
}
