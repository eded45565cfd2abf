package dev.genmesh.users.impl;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import java.net.ConnectException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user database's pools: one per region's copy. Writes go to the current primary, found by
 * asking every copy (the one not in recovery on the highest timeline: a promoted standby starts a
 * new timeline, so a former primary that came back writable loses to it); reads to this process's
 * local copy, or the primary when it has none or it cannot be reached.
 */
public final class UserDbPools {
  private static final Logger LOG = LoggerFactory.getLogger(UserDbPools.class);
  /** read_only_sql_transaction: the write reached a standby; cannot_connect_now and admin_shutdown: a server stopping. */
  private static final Set<String> NOT_EXECUTED = Set.of("25006", "57P03", "57P01");

  private final Map<String, Pool> copies;
  private final String configuredPrimary;
  private final String localRegion;
  private Future<String> primary;

  /**
   * @param copies region → pool, in config order
   * @param localRegion the copy reads use; null or absent: the primary
   */
  public UserDbPools(Map<String, Pool> copies, String configuredPrimary, String localRegion) {
    this.copies = new LinkedHashMap<>(copies);
    this.configuredPrimary = configuredPrimary;
    this.localRegion = localRegion != null && copies.containsKey(localRegion) ? localRegion : null;
  }

  /** The pool of the current primary (located once, again after {@link #forgetPrimary}). */
  public synchronized Future<Pool> writes() {
    if (copies.size() == 1) {
      return Future.succeededFuture(copies.values().iterator().next());
    }
    if (primary == null || primary.failed()) {
      primary = locate();
    }
    return primary.map(copies::get);
  }

  /** The region of the current primary, as located. */
  public Future<String> primaryRegion() {
    return writes().map(pool -> copies.entrySet().stream().filter(e -> e.getValue() == pool).findFirst()
        .map(Map.Entry::getKey).orElse(configuredPrimary));
  }

  /** The local copy, or the primary's when there is none. */
  public Future<Pool> reads() {
    return localRegion == null ? writes() : Future.succeededFuture(copies.get(localRegion));
  }

  public boolean hasLocalCopy() {
    return localRegion != null;
  }

  /** The primary may have changed: locate it again on the next write. */
  public synchronized void forgetPrimary() {
    primary = null;
  }

  public Map<String, Pool> copies() {
    return Map.copyOf(copies);
  }

  /** Every copy's state, in config order (an unreachable one is absent). */
  public Future<Map<String, ServerState>> states() {
    Map<String, Future<ServerState>> asked = new LinkedHashMap<>();
    copies.forEach((region, pool) -> asked.put(region, ServerState.of(pool)));
    return Future.join(List.copyOf(asked.values())).otherwiseEmpty().map(v -> {
      Map<String, ServerState> states = new LinkedHashMap<>();
      asked.forEach((region, state) -> {
        if (state.succeeded()) {
          states.put(region, state.result());
        }
      });
      return states;
    });
  }

  private Future<String> locate() {
    return states().compose(states -> {
      String best = null;
      long bestTimeline = 0;
      for (Map.Entry<String, ServerState> e : states.entrySet()) {
        ServerState state = e.getValue();
        if (!state.standby() && (state.timeline() > bestTimeline
            || (state.timeline() == bestTimeline && e.getKey().equals(configuredPrimary)))) {
          best = e.getKey();
          bestTimeline = state.timeline();
        }
      }
      if (best == null) {
        return Future.failedFuture(new IllegalStateException("no copy of the user database takes writes (reached "
            + states.keySet() + " of " + copies.keySet() + ", all standbys): the primary is down and none is promoted yet"));
      }
      if (!best.equals(configuredPrimary)) {
        LOG.info("user database: the primary is {} (timeline {}), not the configured {}", best, bestTimeline,
            configuredPrimary);
      }
      return Future.succeededFuture(best);
    });
  }

  /** A failure after which the statement certainly did not run, so a retry on the located primary is safe. */
  public static boolean notExecuted(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || (t instanceof PgException pg && NOT_EXECUTED.contains(pg.getSqlState()))) {
        return true;
      }
    }
    return false;
  }

  public Future<Void> close() {
    return Future.join(copies.values().stream().map(Pool::close).toList()).mapEmpty();
  }
}
