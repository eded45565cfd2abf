package dev.genmesh.failover.dns;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.protocol.failover.RegionDecision;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes DNS follow the failover decisions: listens for {@link RegionDecision}s on
 * {@link RegionDecision#ADDRESS} and applies each through the {@link DnsProvider} (DOWN: the
 * region's addresses are withdrawn, so GeoDNS answers its clients with the next region in their
 * order, normally its adopter; UP: they are published again). A change that fails is retried
 * with doubling backoff until it is applied or a newer decision about the region replaces it.
 * Measures detection-to-record-change: from the decision, and from the first suspicion, to the
 * moment the provider confirmed ({@code genmesh.dns.failover.duration}).
 */
public final class DnsFailover extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DnsFailover.class);

  private final DnsConfig config;
  private final DnsProvider provider;
  private final MeterRegistry meters;
  private final Clock clock;
  /** Per region, the generation of its latest decision: an older one stops retrying. */
  private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();
  private MessageConsumer<JsonObject> consumer;

  public DnsFailover(DnsConfig config, DnsProvider provider, MeterRegistry meters, Clock clock) {
    this.config = config;
    this.provider = provider;
    this.meters = meters;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().<JsonObject>consumer(RegionDecision.ADDRESS, message -> {
      RegionDecision decision;
      try {
        decision = RegionDecision.fromJson(message.body());
      } catch (RuntimeException e) {
        meters.counter("genmesh.dns.changes", "region", "unknown", "state", "unknown", "outcome", "bad_decision").increment();
        LOG.warn("DNS failover: ignored a decision it cannot read ({}): {}", e.toString(), message.body());
        return;
      }
      apply(decision);
    });
    LOG.info("DNS failover for {} through {}", config.apiFqdn(), provider.describe());
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /**
   * Applies one decision; completes once the provider confirmed it (true) or a newer decision about
   * the region replaced it (false).
   */
  public Future<Boolean> apply(RegionDecision decision) {
    long generation = generations.computeIfAbsent(decision.region(), r -> new AtomicLong()).incrementAndGet();
    Promise<Boolean> done = Promise.promise();
    attempt(decision, generation, 1, config.retryBackoffMs(), done);
    return done.future();
  }

  private void attempt(RegionDecision decision, long generation, int attempt, long backoffMs, Promise<Boolean> done) {
    if (generations.get(decision.region()).get() != generation) {
      LOG.debug("DNS failover: {} {} replaced by a newer decision", decision.region(), decision.state());
      done.complete(false);
      return;
    }
    change(decision).onComplete(result -> {
      if (result.succeeded()) {
        confirmed(decision, attempt);
        done.complete(true);
        return;
      }
      meters.counter("genmesh.dns.changes", "region", decision.region(), "state", state(decision), "outcome", "failed")
          .increment();
      if (attempt == 1) {
        LOG.warn("DNS failover: could not apply {} {} through {} ({}); retrying with backoff up to {} ms until it is"
            + " applied or replaced", decision.region(), decision.state(), provider.describe(),
            result.cause().toString(), config.retryBackoffCapMs());
      } else {
        LOG.debug("DNS failover: attempt {} for {} {} failed: {}", attempt, decision.region(), decision.state(),
            result.cause().toString());
      }
      vertx.setTimer(backoffMs, t -> attempt(decision, generation, attempt + 1,
          Math.min(backoffMs * 2, config.retryBackoffCapMs()), done));
    });
  }

  private Future<Void> change(RegionDecision decision) {
    if (decision.state() == RegionDecision.State.DOWN) {
      return provider.withdraw(decision.region());
    }
    List<String> edges = config.edges().getOrDefault(decision.region(), List.of());
    if (edges.isEmpty()) {
      return Future.failedFuture(new DnsChangeException("no edge addresses for " + decision.region()
          + " in failover.dns.edges"));
    }
    return provider.publish(decision.region(), edges.stream().map(DnsNames::ip).toList());
  }

  private void confirmed(RegionDecision decision, int attempts) {
    Instant now = clock.instant();
    Duration sinceDecision = nonNegative(Duration.between(decision.decidedAt(), now));
    Duration sinceSuspicion = nonNegative(Duration.between(decision.suspectedSince(), now));
    timer(decision, "decision").record(sinceDecision);
    timer(decision, "suspicion").record(sinceSuspicion);
    meters.counter("genmesh.dns.changes", "region", decision.region(), "state", state(decision), "outcome", "applied")
        .increment();
    LOG.info("DNS failover: {} {} applied through {}{}: {} ms after the decision, {} ms after the first suspicion{}",
        decision.region(), decision.state(), provider.describe(), attempts > 1 ? " after " + attempts + " attempts" : "",
        sinceDecision.toMillis(), sinceSuspicion.toMillis(),
        decision.adopter() == null ? "" : " (adopter " + decision.adopter() + ")");
  }

  private Timer timer(RegionDecision decision, String since) {
    return Timer.builder("genmesh.dns.failover.duration")
        .description("from a region decision (or its first suspicion) to the DNS provider's confirmation")
        .tag("region", decision.region()).tag("state", state(decision)).tag("since", since)
        .publishPercentileHistogram().register(meters);
  }

  private static String state(RegionDecision decision) {
    return decision.state().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }

  /** The provider this applies changes through (for an operator's read-back). */
  public DnsProvider provider() {
    return provider;
  }
}
