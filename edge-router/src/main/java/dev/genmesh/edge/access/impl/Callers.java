package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.impl.ApiKeys;
import dev.genmesh.users.KeyGrant;
import dev.genmesh.users.UserStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Establishes the caller from {@code Authorization: Bearer KEY}: a key of {@code edge.api_keys}
 * (the config's, as before), else a key of the user database. A database answer, found or not, is
 * trusted for {@code users.cache_ms}: a key revoked or a user disabled on any edge stops working
 * on this one within that time, and at once when it was revoked through this edge's admin API.
 * Unknown keys are cached too, so a client repeating a bad key costs one lookup per period.
 */
public final class Callers {
  /** What one edge remembers at most; when full, it forgets everything (a flood of random keys). */
  static final int MAX_CACHED = 50_000;
  public static final String LOOKUP_FAILURES = "genmesh.edge.users.lookup.failures";

  /** A lookup's outcome: a caller, or why the call is refused (401), or the user database failing. */
  public record Outcome(Caller caller, String refusal) {
    public boolean refused() {
      return refusal != null;
    }
  }

  private record Cached(Optional<KeyGrant> grant, long expiresAtNanos) {}

  private final ApiKeys configKeys;
  private final UserStore users;
  private final long cacheNanos;
  private final LongSupplier nanoTime;
  private final Counter failures;
  private final Map<String, Cached> cache = new LinkedHashMap<>();
  /**
   * Key ids revoked and user ids disabled through this edge, until when they are refused whatever a
   * lookup says: a lookup on a replica may not have replayed the change yet (docs/architecture.md,
   * "The user database").
   */
  private final Map<String, Long> revokedHere = new LinkedHashMap<>();
  private final Map<String, Long> disabledHere = new LinkedHashMap<>();

  /** @param users the user database, or null when there is none ({@code users.enabled: false}) */
  public Callers(ApiKeys configKeys, UserStore users, long cacheMs, MeterRegistry meters, LongSupplier nanoTime) {
    this.configKeys = configKeys;
    this.users = users;
    this.cacheNanos = cacheMs * 1_000_000L;
    this.nanoTime = nanoTime;
    this.failures = Counter.builder(LOOKUP_FAILURES).description("API key lookups the user database could not answer")
        .register(meters);
  }

  /** Fails only when the user database cannot answer (the caller is then told 503). */
  public Future<Outcome> identify(String authorization) {
    ApiKeys.Caller fromConfig = configKeys.identify(authorization);
    if (!fromConfig.refused()) {
      return Future.succeededFuture(new Outcome(ApiKeys.ANONYMOUS.equals(fromConfig.user())
          ? Caller.anonymous() : new Caller(fromConfig.user(), false, null), null));
    }
    String key = bearer(authorization);
    if (key == null || users == null) {
      return Future.succeededFuture(new Outcome(null, fromConfig.refusal()));
    }
    Cached cached = cached(key);
    Future<Optional<KeyGrant>> grant = cached != null ? Future.succeededFuture(cached.grant()) : users.grantFor(key)
        .onSuccess(found -> remember(key, found))
        .onFailure(failed -> failures.increment());
    return grant.map(found -> found.filter(g -> !refusedHere(g))
        .map(g -> new Outcome(new Caller(g.userId(), g.admin(), g.tiers()), null))
        .orElseGet(() -> new Outcome(null, "the API key is not valid")));
  }

  /** Forgets every cached lookup of {@code keyId}'s key (it was revoked here). */
  public synchronized void forgetKey(String keyId) {
    remember(revokedHere, keyId);
    cache.values().removeIf(entry -> entry.grant().map(g -> g.keyId().equals(keyId)).orElse(false));
  }

  /** Forgets every cached lookup of a key of {@code userId} (the user was disabled here). */
  public synchronized void forgetUser(String userId) {
    remember(disabledHere, userId);
    cache.values().removeIf(entry -> entry.grant().map(g -> g.userId().equals(userId)).orElse(false));
  }

  /** How long this edge refuses what it revoked: past any replica's replay, and the cache of a lookup made meanwhile. */
  private static final long REFUSED_HERE_NANOS = 60_000_000_000L;

  private void remember(Map<String, Long> refused, String id) {
    if (refused.size() >= MAX_CACHED) {
      refused.clear();
    }
    refused.put(id, nanoTime.getAsLong() + REFUSED_HERE_NANOS + cacheNanos);
  }

  private synchronized boolean refusedHere(KeyGrant grant) {
    long now = nanoTime.getAsLong();
    revokedHere.values().removeIf(until -> now - until >= 0);
    disabledHere.values().removeIf(until -> now - until >= 0);
    return revokedHere.containsKey(grant.keyId()) || disabledHere.containsKey(grant.userId());
  }

  private synchronized Cached cached(String key) {
    Cached entry = cache.get(key);
    if (entry != null && nanoTime.getAsLong() - entry.expiresAtNanos() >= 0) {
      cache.remove(key);
      return null;
    }
    return entry;
  }

  private synchronized void remember(String key, Optional<KeyGrant> grant) {
    if (cacheNanos <= 0) {
      return;
    }
    if (cache.size() >= MAX_CACHED) {
      cache.clear();
    }
    cache.put(key, new Cached(grant, nanoTime.getAsLong() + cacheNanos));
  }

  private static String bearer(String authorization) {
    String prefix = "Bearer ";
    if (authorization == null || !authorization.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return null;
    }
    String key = authorization.substring(prefix.length()).trim();
    return key.isEmpty() ? null : key;
  }
}
