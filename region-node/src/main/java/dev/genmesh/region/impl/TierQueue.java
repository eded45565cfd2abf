package dev.genmesh.region.impl;

import dev.genmesh.protocol.Tier;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The region's tier queues and leases in Redis: one sorted set per tier
 * ({@code <prefix>queue:<tier>}, score = priority-adjusted enqueue time in ms) and one key per
 * lease ({@code <prefix>lease:<id>} = worker id, with a TTL). Redis only holds ids; the request
 * log is the truth (DESIGN.md I2). Every failed call is counted as a Redis error.
 */
public final class TierQueue {
  /** An id taken from a queue, with the score it had, so it can be put back unchanged. */
  public record Popped(String id, Tier tier, double score) {}

  /**
   * Pops the oldest claimable id, turbo before fast before relax, and leases it to the worker.
   * KEYS: the tier queues in dispatch order. ARGV: lease prefix, worker id, lease ms, then ids
   * to pass over (put back earlier because this worker cannot run them). An id whose lease is
   * still held is a stale duplicate (a request already running): it is dropped.
   */
  static final String CLAIM_SCRIPT = """
      local skip = {}
      for i = 4, #ARGV do skip[ARGV[i]] = true end
      local window = #ARGV - 3
      for k = 1, #KEYS do
        while true do
          local entries = redis.call('ZRANGE', KEYS[k], 0, window, 'WITHSCORES')
          local picked = nil
          for j = 1, #entries, 2 do
            if not skip[entries[j]] then picked = j; break end
          end
          if picked == nil then break end
          local id = entries[picked]
          redis.call('ZREM', KEYS[k], id)
          if redis.call('SET', ARGV[1] .. id, ARGV[2], 'NX', 'PX', ARGV[3]) then
            return {id, tostring(k), entries[picked + 1]}
          end
        end
      end
      return false
      """;

  /** Deletes a lease only if this worker holds it. KEYS: lease key. ARGV: worker id. */
  static final String RELEASE_SCRIPT = """
      if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0
      """;

  /** Extends the leases this worker holds. KEYS: lease keys. ARGV: worker id, lease ms. */
  static final String RENEW_SCRIPT = """
      local renewed = 0
      for i = 1, #KEYS do
        if redis.call('GET', KEYS[i]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[i], ARGV[2])
          renewed = renewed + 1
        end
      end
      return renewed
      """;

  private final Redis redis;
  private final RedisAPI api;
  private final String prefix;
  private final RegionMetrics metrics;

  public TierQueue(Redis redis, String keyPrefix, RegionMetrics metrics) {
    this.redis = redis;
    this.api = RedisAPI.api(redis);
    this.prefix = keyPrefix;
    this.metrics = metrics;
  }

  public String queueKey(Tier tier) {
    return prefix + "queue:" + tier.wireName();
  }

  public String leaseKey(String id) {
    return prefix + "lease:" + id;
  }

  public Future<Void> ping() {
    return counted("ping", api.ping(List.of())).mapEmpty();
  }

  /** Adds the id unless it is queued already (ZADD NX keeps the first score). */
  public Future<Void> add(String id, Tier tier, double score) {
    return counted("zadd", api.zadd(List.of(queueKey(tier), "NX", score(score), id))).mapEmpty();
  }

  /** Adds many ids of one tier with ZADD NX; answers how many were new. */
  public Future<Long> addAll(Tier tier, Map<String, Double> scores) {
    if (scores.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    List<String> args = new ArrayList<>(2 + scores.size() * 2);
    args.add(queueKey(tier));
    args.add("NX");
    scores.forEach((id, score) -> {
      args.add(score(score));
      args.add(id);
    });
    return counted("zadd", api.zadd(args)).map(Response::toLong);
  }

  /** Pops and leases the next id for this worker, passing over {@code skip}. */
  public Future<Optional<Popped>> pop(String workerId, long leaseMs, Collection<String> skip) {
    List<String> args = new ArrayList<>();
    args.add(CLAIM_SCRIPT);
    args.add(String.valueOf(Tier.values().length));
    for (Tier tier : Tier.values()) {
      args.add(queueKey(tier));
    }
    args.add(prefix + "lease:");
    args.add(workerId);
    args.add(String.valueOf(leaseMs));
    args.addAll(skip);
    return counted("claim", api.eval(args)).map(response -> {
      if (response == null || response.size() < 3) {
        return Optional.empty();
      }
      Tier tier = Tier.values()[response.get(1).toInteger() - 1];
      return Optional.of(new Popped(response.get(0).toString(), tier, Double.parseDouble(response.get(2).toString())));
    });
  }

  /** Puts a popped id back with its old score and gives up this worker's lease on it. */
  public Future<Void> putBack(Popped popped, String workerId) {
    return add(popped.id(), popped.tier(), popped.score()).compose(v -> releaseLease(popped.id(), workerId));
  }

  public Future<Void> releaseLease(String id, String workerId) {
    return counted("release", api.eval(List.of(RELEASE_SCRIPT, "1", leaseKey(id), workerId))).mapEmpty();
  }

  public Future<Void> deleteLease(String id) {
    return counted("del", api.del(List.of(leaseKey(id)))).mapEmpty();
  }

  /** Extends the leases of {@code ids} this worker holds; answers how many it held. */
  public Future<Long> renewLeases(String workerId, List<String> ids, long leaseMs) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    List<String> args = new ArrayList<>();
    args.add(RENEW_SCRIPT);
    args.add(String.valueOf(ids.size()));
    ids.forEach(id -> args.add(leaseKey(id)));
    args.add(workerId);
    args.add(String.valueOf(leaseMs));
    return counted("renew", api.eval(args)).map(Response::toLong);
  }

  /** For each id, whether its lease key exists (same order). */
  public Future<List<Boolean>> leasesHeld(List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<Request> batch = new ArrayList<>(ids.size());
    ids.forEach(id -> batch.add(Request.cmd(Command.EXISTS).arg(leaseKey(id))));
    return counted("exists", redis.batch(batch)).map(responses -> {
      List<Boolean> held = new ArrayList<>(responses.size());
      responses.forEach(response -> held.add(response != null && response.toLong() > 0));
      return held;
    });
  }

  /** The 0-based place of the id in its tier queue, or empty if it is not queued there. */
  public Future<Optional<Long>> rank(String id, Tier tier) {
    return counted("zrank", api.zrank(queueKey(tier), id))
        .map(response -> response == null ? Optional.empty() : Optional.of(response.toLong()));
  }

  public Future<Long> depth(Tier tier) {
    return counted("zcard", api.zcard(queueKey(tier))).map(Response::toLong);
  }

  public Future<Map<Tier, Long>> depths() {
    List<Request> batch = new ArrayList<>();
    for (Tier tier : Tier.values()) {
      batch.add(Request.cmd(Command.ZCARD).arg(queueKey(tier)));
    }
    return counted("zcard", redis.batch(batch)).map(responses -> {
      Map<Tier, Long> depths = new EnumMap<>(Tier.class);
      for (Tier tier : Tier.values()) {
        depths.put(tier, responses.get(tier.ordinal()).toLong());
      }
      return depths;
    });
  }

  private <T> Future<T> counted(String op, Future<T> call) {
    return call.onFailure(err -> metrics.redisError(op));
  }

  private static String score(double score) {
    return score == Math.rint(score) && Math.abs(score) < 1e15 ? Long.toString((long) score) : Double.toString(score);
  }
}
