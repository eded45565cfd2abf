package dev.genmesh.region.node;

import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/** The region node's meters, all tagged with the region. */
public final class RegionMetrics {
  public static final String REQUESTS = "genmesh.requests";
  public static final String STEP_TIME = "genmesh.step.time";
  public static final String QUEUE_DEPTH = "genmesh.queue.depth";
  public static final String REDIS_ERRORS = "genmesh.redis.errors";
  public static final String RESULTS_DISCARDED = "genmesh.results.discarded";
  public static final String STEPS_DISCARDED = "genmesh.steps.discarded";
  public static final String ERRORS = "genmesh.errors";
  public static final String QUEUE_OLDEST_AGE = "genmesh.queue.oldest.age";
  public static final String QUEUE_WAIT = "genmesh.queue.wait";
  public static final String DISPATCHES = "genmesh.dispatches";
  public static final String LEASES_LOST = "genmesh.leases.lost";
  public static final String LEASES_RESTORED = "genmesh.leases.restored";
  public static final String RETRIES = "genmesh.retries";
  public static final String REBUILDS = "genmesh.queue.rebuilds";
  public static final String WORKER_TRANSITIONS = "genmesh.workers.transitions";
  public static final String WORKERS = "genmesh.workers";
  public static final String LOG_TRANSACTIONS = "genmesh.log.transactions";
  public static final String LOG_STATEMENTS = "genmesh.log.statements";
  public static final String LOG_RETRIED_ALONE = "genmesh.log.retried.alone";
  public static final String LOG_WAITING = "genmesh.log.waiting";
  /** Transactions of the group commit that held one statement, tagged with its kind. */
  public static final String LOG_ALONE = "genmesh.log.transactions.alone";
  public static final String LOG_LINGERED = "genmesh.log.lingered";
  public static final String CLAIMS_WAITING = "genmesh.claims.waiting";
  public static final String CLAIMS = "genmesh.claims";
  /** 1 while the region's PostgreSQL (store=postgres) or Redis (store=redis) answers its ping, else 0. */
  public static final String STORE_UP = "genmesh.store.up";

  private final MeterRegistry meters;
  private final String region;
  private final Map<Tier, AtomicLong> depths = new EnumMap<>(Tier.class);
  private final Map<Tier, AtomicLong> oldestAgeMs = new EnumMap<>(Tier.class);
  private final List<Meter> gauges = new ArrayList<>();
  /** The meters counted per request, found once (a registry lookup builds and sorts the tags each time). */
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  public RegionMetrics(MeterRegistry meters, String region) {
    this.meters = meters;
    this.region = region;
    for (Tier tier : Tier.values()) {
      AtomicLong depth = new AtomicLong();
      depths.put(tier, depth);
      gauges.add(Gauge.builder(QUEUE_DEPTH, depth, AtomicLong::get)
          .description("Requests waiting in the tier queue (ZCARD, refreshed every second)")
          .tags("region", region, "tier", tier.wireName())
          .register(meters));
      AtomicLong age = new AtomicLong();
      oldestAgeMs.put(tier, age);
      gauges.add(TimeGauge.builder(QUEUE_OLDEST_AGE, age, TimeUnit.MILLISECONDS, AtomicLong::get)
          .description("How long the oldest QUEUED request of the tier has waited (0 when none)")
          .tags("region", region, "tier", tier.wireName())
          .register(meters));
    }
  }

  /** A dispatch by the claim script; {@code via} is {@code order} or {@code relax_share}. */
  public void dispatched(Tier tier, String via) {
    counters.computeIfAbsent(DISPATCHES + '|' + tier.wireName() + '|' + via,
        k -> meters.counter(DISPATCHES, "region", region, "tier", tier.wireName(), "via", via)).increment();
  }

  /** From (first) queued to assigned; the timer's mean is the tier's average wait. */
  public void queueWait(Tier tier, Duration wait) {
    timers.computeIfAbsent(QUEUE_WAIT + '|' + tier.wireName(), k -> Timer.builder(QUEUE_WAIT)
            .description("Time from queued to assigned, per dispatch")
            .tags("region", region, "tier", tier.wireName())
            .register(meters))
        .record(wait.isNegative() ? Duration.ZERO : wait);
  }

  public void leaseLost(Tier tier) {
    meters.counter(LEASES_LOST, "region", region, "tier", tier.wireName()).increment();
  }

  /** A lease re-created for a worker that still runs the request (Redis had lost it). */
  /** A worker entered {@code state} (region-node/API.md, "Worker health"). */
  public void workerTransition(dev.genmesh.region.workers.WorkerState state) {
    meters.counter(WORKER_TRANSITIONS, "region", region, "state", state.wireName()).increment();
  }

  /**
   * The request log's group commit, read from {@code writer} at scrape time: its transactions and
   * statements (statements ÷ transactions is the batch size), the statements written again alone
   * after their batch failed, and the statements waiting for the next transaction now.
   */
  public <T> void groupCommit(T writer, ToDoubleFunction<T> transactions,
      ToDoubleFunction<T> statements, ToDoubleFunction<T> retriedAlone,
      ToDoubleFunction<T> waiting) {
    gauges.add(FunctionCounter.builder(LOG_TRANSACTIONS, writer, transactions)
        .description("Transactions of the request log's batching writer").tags("region", region).register(meters));
    gauges.add(FunctionCounter.builder(LOG_STATEMENTS, writer, statements)
        .description("Statements written through the request log's batching writer").tags("region", region)
        .register(meters));
    gauges.add(FunctionCounter.builder(LOG_RETRIED_ALONE, writer, retriedAlone)
        .description("Statements written again alone after their batch failed").tags("region", region)
        .register(meters));
    gauges.add(Gauge.builder(LOG_WAITING, writer, waiting)
        .description("Statements waiting for the request log's next transaction").tags("region", region)
        .register(meters));
  }

  /**
   * The group commit's detail: the transactions that waited for its linger, and those that held one
   * statement, by the statement's kind (each of {@code kinds}): which state changes commit alone.
   */
  public <T> void groupCommitDetail(T writer, ToDoubleFunction<T> lingered, List<String> kinds,
      java.util.function.BiFunction<T, String, Long> alone) {
    gauges.add(FunctionCounter.builder(LOG_LINGERED, writer, lingered)
        .description("Transactions of the request log that waited for the group commit's linger").tags("region", region)
        .register(meters));
    for (String kind : kinds) {
      gauges.add(FunctionCounter.builder(LOG_ALONE, writer, w -> alone.apply(w, kind))
          .description("Transactions of the request log that held a single statement, by its kind")
          .tags("region", region, "kind", kind).register(meters));
    }
  }

  /**
   * A claim run (a woken claim that waited runs again and counts again): {@code assigned},
   * {@code none} (nothing it could take) or {@code refused} (the worker or its models may not claim now).
   */
  public void claim(String outcome) {
    counters.computeIfAbsent(CLAIMS + '|' + outcome, k -> meters.counter(CLAIMS, "region", region, "outcome", outcome))
        .increment();
  }

  /** Claims of idle workers that wait for work on this node, read from {@code claims} at scrape time. */
  public <T> void waitingClaims(T claims, ToDoubleFunction<T> count) {
    gauges.add(Gauge.builder(CLAIMS_WAITING, claims, count)
        .description("Claims of idle workers waiting on this node for work (long polls)").tags("region", region)
        .register(meters));
  }

  /**
   * Whether {@code store} ({@code postgres}, {@code redis}) answered its last ping: a gauge the
   * alert rules read (k8s/monitoring). Starts at 1; the caller sets it after each ping.
   */
  public java.util.concurrent.atomic.AtomicInteger storeUp(String store) {
    java.util.concurrent.atomic.AtomicInteger up = new java.util.concurrent.atomic.AtomicInteger(1);
    gauges.add(Gauge.builder(STORE_UP, up, java.util.concurrent.atomic.AtomicInteger::get)
        .description("1 while the region's store answers its ping (checked every few seconds), else 0")
        .tags("region", region, "store", store).register(meters));
    return up;
  }

  /** Workers per state, read from {@code count} at scrape time. */
  public void workerGauges(java.util.function.ToIntFunction<dev.genmesh.region.workers.WorkerState> count) {
    for (dev.genmesh.region.workers.WorkerState state : dev.genmesh.region.workers.WorkerState.values()) {
      gauges.add(Gauge.builder(WORKERS, () -> count.applyAsInt(state))
          .description("Workers the region knows, by state").tags("region", region, "state", state.wireName())
          .register(meters));
    }
  }

  public void leaseRestored() {
    meters.counter(LEASES_RESTORED, "region", region).increment();
  }

  /** A retry (reason: lease_lost or the worker's failure type). */
  public void retry(Tier tier, String reason) {
    meters.counter(RETRIES, "region", region, "tier", tier.wireName(), "reason", reason).increment();
  }

  /** A queue rebuild from the log (trigger: startup, keys_lost, redis_recovered). */
  public void rebuild(String trigger) {
    meters.counter(REBUILDS, "region", region, "trigger", trigger).increment();
  }

  /** Ages of each tier's oldest QUEUED request (tiers not listed have none). */
  public void oldest(Map<Tier, Instant> oldest, Instant now) {
    for (Tier tier : Tier.values()) {
      Instant at = oldest.get(tier);
      oldestAgeMs.get(tier).set(at == null ? 0 : Math.max(0, Duration.between(at, now).toMillis()));
    }
  }

  /** Counts a submit (status queued) or a terminal transition. */
  public void request(Tier tier, RequestStatus status) {
    counters.computeIfAbsent(REQUESTS + '|' + tier.wireName() + '|' + status.wireName(),
        k -> meters.counter(REQUESTS, "region", region, "tier", tier.wireName(), "status", status.wireName())).increment();
  }

  public void stepTime(String model, double stepMs) {
    timers.computeIfAbsent(STEP_TIME + '|' + model, k -> Timer.builder(STEP_TIME)
            .description("Duration of one denoising step, as reported by the worker")
            .tags("region", region, "model", model)
            .register(meters))
        .record(Duration.ofNanos((long) (Math.max(0, stepMs) * 1_000_000)));
  }

  /** A step of an attempt that is no longer current. */
  public void staleStep() {
    meters.counter(STEPS_DISCARDED, "region", region).increment();
  }

  /** A result or failure report of a stale attempt (kind: result or failure). */
  public void discarded(String kind) {
    meters.counter(RESULTS_DISCARDED, "region", region, "kind", kind).increment();
  }

  public void redisError(String op) {
    meters.counter(REDIS_ERRORS, "region", region, "op", op).increment();
  }

  /** An error the system caused (logged once by the caller). */
  public void systemError(String op) {
    meters.counter(ERRORS, "region", region, "op", op).increment();
  }

  /** The tier queue's depth as last sampled (ZCARD, every second). */
  public long depth(Tier tier) {
    return depths.get(tier).get();
  }

  /** How long the tier's oldest QUEUED request has waited, as last sampled (0 when none). */
  public long oldestAgeMs(Tier tier) {
    return oldestAgeMs.get(tier).get();
  }

  public void depths(Map<Tier, Long> current) {
    current.forEach((tier, depth) -> depths.get(tier).set(depth));
  }

  /** Unbinds the gauges, so a node started again on the same meter registry reports its own. */
  public void close() {
    gauges.forEach(meters::remove);
    gauges.clear();
  }
}
