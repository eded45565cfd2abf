package dev.genmesh.region.queue;

import dev.genmesh.protocol.Tier;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The region's tier queues, delayed retries and leases in Redis (key layout in
 * {@code lua/common.lua} and region-node/API.md). Redis only holds ids and routing data; the
 * request log is the truth (docs/architecture.md, I2). Every failed call is counted as a Redis
 * error and remembered, so the node can rebuild once Redis answers again.
 */
public final class TierQueue {
  /** How far into a tier queue one claim looks for a request this worker can run. */
  static final int CLAIM_WINDOW = 64;
  /** Dispatches kept in the {@code dispatches} stream (an audit trail of tier order and relax share). */
  static final int DISPATCH_LOG_LENGTH = 10_000;
  /** Delayed retries moved into the queues per call. */
  static final int PROMOTE_LIMIT = 1000;

  /** An id a claim took, with what it needs to be put back unchanged. */
  public record Popped(String id, Tier tier, String score, String meta, String via) {}

  /** A claim's outcome; {@code orphans} counts delayed ids found without their data (keys lost). */
  public record Claimed(Optional<Popped> popped, long orphans) {}

  /**
   * Where a request waits: its rank in its tier (-1 if not there), a delayed id's due time, and the
   * depths of the tiers ahead of its own (what its position needs; the others are not counted).
   */
  public record Place(long rank, Long dueMs, Map<Tier, Long> depths) {}

  private static final LuaScript ENQUEUE = LuaScript.load("enqueue");
  private static final LuaScript CLAIM = LuaScript.load("claim");
  private static final LuaScript PUT_BACK = LuaScript.load("put_back");
  private static final LuaScript REMOVE = LuaScript.load("remove");
  private static final LuaScript POSITION = LuaScript.load("position");
  private static final LuaScript PROMOTE = LuaScript.load("promote");
  private static final LuaScript PRUNE = LuaScript.load("prune");
  private static final LuaScript RENEW = LuaScript.load("renew");
  private static final LuaScript RELEASE = LuaScript.load("release");
  private static final LuaScript TAKE = LuaScript.load("take");

  private final Redis redis;
  private final RedisAPI api;
  private final String prefix;
  private final Consumer<String> redisErrors;
  private final long relaxSharePpm;
  private final long routingHoldMs;
  private volatile boolean errorSeen;

  /** @param redisErrors counts a failed Redis call, by operation */
  public TierQueue(Redis redis, String keyPrefix, Consumer<String> redisErrors, double relaxShare, long routingHoldMs) {
    this.redis = redis;
    this.api = RedisAPI.api(redis);
    this.prefix = keyPrefix;
    this.redisErrors = redisErrors;
    this.relaxSharePpm = Math.round(relaxShare * 1_000_000);
    this.routingHoldMs = routingHoldMs;
  }

  public String queueKey(Tier tier) {
    return prefix + "queue:" + tier.wireName();
  }

  public String leaseKey(String id) {
    return prefix + "lease:" + id;
  }

  String epochKey() {
    return prefix + "epoch";
  }

  /** True once if a Redis call failed since the last time this was asked. */
  public boolean takeErrorSeen() {
    boolean seen = errorSeen;
    errorSeen = false;
    return seen;
  }

  public Future<Void> ping() {
    return counted("ping", api.ping(List.of())).mapEmpty();
  }

  /** Queues the entries that are not queued or delayed yet (idempotent); answers how many were new. */
  public Future<Long> enqueue(List<QueueEntry> entries, long nowMs) {
    if (entries.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    List<String> args = new ArrayList<>(2 + entries.size() * 3);
    args.add(prefix);
    args.add(Long.toString(nowMs));
    for (QueueEntry entry : entries) {
      args.add(entry.id());
      args.add(Long.toString(entry.notBeforeMs()));
      args.add(entry.metaJson());
    }
    return counted("enqueue", ENQUEUE.run(api, args)).map(Response::toLong);
  }

  /**
   * Takes and leases the next request for a worker. {@code worker} is the claim script's worker
   * JSON, encoded (see {@code lua/claim.lua}).
   */
  public Future<Claimed> claim(String worker, long leaseMs, long nowMs) {
    List<String> args = List.of(prefix, Long.toString(nowMs), worker, Long.toString(leaseMs),
        Long.toString(relaxSharePpm), Long.toString(routingHoldMs), Integer.toString(CLAIM_WINDOW),
        Integer.toString(DISPATCH_LOG_LENGTH));
    return counted("claim", CLAIM.run(api, args)).map(response -> {
      String id = response.get(0).toString();
      if (id.isEmpty()) {
        return new Claimed(Optional.empty(), response.get(1).toLong());
      }
      Tier tier = Tier.parse(response.get(1).toString()).orElseThrow();
      Popped popped = new Popped(id, tier, response.get(2).toString(), response.get(3).toString(), response.get(4).toString());
      return new Claimed(Optional.of(popped), response.get(5).toLong());
    });
  }

  /** Puts a claimed id back with its old score and routing data, and gives up this worker's lease. */
  public Future<Void> putBack(Popped popped, String workerId) {
    return counted("put_back", PUT_BACK.run(api,
        List.of(prefix, popped.id(), popped.tier().wireName(), popped.score(), popped.meta(), workerId))).mapEmpty();
  }

  /** Forgets a request that ended; true if it was still waiting in a queue. */
  public Future<Boolean> remove(String id, Tier tier) {
    return counted("remove", REMOVE.run(api, List.of(prefix, id, tier.wireName()))).map(r -> r.toLong() > 0);
  }

  /**
   * Takes a waiting request out of its queue (or the delayed set) without touching leases, to
   * queue it again with new routing data; false if it was not waiting (a claim holds it now).
   */
  public Future<Boolean> take(String id, Tier tier) {
    return counted("take", TAKE.run(api, List.of(prefix, id, tier.wireName()))).map(r -> r.toLong() > 0);
  }

  /** Moves due delayed retries into their queues; answers {moved, orphans}. */
  public Future<long[]> promoteDue(long nowMs) {
    return counted("promote", PROMOTE.run(api, List.of(prefix, Long.toString(nowMs), Integer.toString(PROMOTE_LIMIT))))
        .map(r -> new long[] {r.get(0).toLong(), r.get(1).toLong()});
  }

  /** Where a queued request waits now. */
  public Future<Place> place(String id, Tier tier) {
    return position(List.of(prefix, tier.wireName(), id));
  }

  /** Where a request of this user and priority would land if queued now. */
  public Future<Place> predict(Tier tier, String user, int priority) {
    return position(List.of(prefix, tier.wireName(), "", user, Integer.toString(priority)));
  }

  private Future<Place> position(List<String> args) {
    return counted("position", POSITION.run(api, args)).map(r -> {
      Map<Tier, Long> depths = new EnumMap<>(Tier.class);
      for (Tier tier : Tier.values()) {
        long depth = r.get(2 + tier.ordinal()).toLong();
        if (depth >= 0) {
          depths.put(tier, depth);
        }
      }
      String due = r.get(1).toString();
      return new Place(r.get(0).toLong(), due.isEmpty() ? null : (long) Double.parseDouble(due), depths);
    });
  }

  /** Drops one page of finish tags that no longer matter; answers the next cursor ("0": done). */
  public Future<String> pruneFinishTags(Tier tier, String cursor) {
    return counted("prune", PRUNE.run(api, List.of(prefix, tier.wireName(), cursor))).map(Response::toString);
  }

  public Future<Void> releaseLease(String id, String workerId) {
    return counted("release", RELEASE.run(api, List.of(prefix, id, workerId))).mapEmpty();
  }

  public Future<Void> deleteLease(String id) {
    return counted("del", api.del(List.of(leaseKey(id)))).mapEmpty();
  }

  /** Deletes the leases of these requests in one command. */
  public Future<Void> deleteLeases(List<String> ids) {
    List<String> keys = new ArrayList<>(ids.size());
    for (String id : ids) {
      keys.add(leaseKey(id));
    }
    return counted("del", api.del(keys)).mapEmpty();
  }

  /** Re-creates a lost lease for the worker that still runs the request; false if one exists. */
  public Future<Boolean> restoreLease(String id, String workerId, long leaseMs) {
    return counted("restore", api.set(List.of(leaseKey(id), workerId, "NX", "PX", Long.toString(leaseMs))))
        .map(response -> response != null);
  }

  /** Extends the leases of {@code ids} this worker holds; answers how many it held. */
  public Future<Long> renewLeases(String workerId, List<String> ids, long leaseMs) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    List<String> args = new ArrayList<>(3 + ids.size());
    args.add(prefix);
    args.add(workerId);
    args.add(Long.toString(leaseMs));
    args.addAll(ids);
    return counted("renew", RENEW.run(api, args)).map(Response::toLong);
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

  /**
   * The id of the region's latest dispatch (every node's claims write the {@code dispatches}
   * stream), empty when none is kept: it changes with every dispatch, which is what failure
   * detection calls progress.
   */
  public Future<String> lastDispatch() {
    return counted("xrevrange", api.xrevrange(List.of(prefix + "dispatches", "+", "-", "COUNT", "1")))
        .map(r -> r == null || r.size() == 0 ? "" : r.get(0).get(0).toString());
  }

  /** The rebuild marker, or empty when Redis lost it (flushed, restarted empty, evicted). */
  public Future<Optional<String>> epoch() {
    return counted("epoch", api.get(epochKey())).map(r -> Optional.ofNullable(r).map(Response::toString));
  }

  public Future<Void> markEpoch(String value) {
    return counted("epoch", api.set(List.of(epochKey(), value))).mapEmpty();
  }

  private <T> Future<T> counted(String op, Future<T> call) {
    return call.onFailure(err -> {
      errorSeen = true;
      redisErrors.accept(op);
    });
  }
}
