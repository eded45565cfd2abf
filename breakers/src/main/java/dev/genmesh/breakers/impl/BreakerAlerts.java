package dev.genmesh.breakers.impl;

import dev.genmesh.breakers.BreakerKind;
import dev.genmesh.breakers.BreakerListener;
import dev.genmesh.breakers.BreakerState;
import dev.genmesh.breakers.BreakerTransition;
import dev.genmesh.breakers.Breakers;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.Tier;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every breaker change visible: logged once (warn when something opens), counted in
 * {@code genmesh.breaker.transitions}, reflected in the {@code genmesh.breaker.state} gauge, and
 * published on {@link Addresses#ALERTS} for internal services.
 */
public final class BreakerAlerts implements BreakerListener {
  private static final Logger LOG = LoggerFactory.getLogger(BreakerAlerts.class);
  public static final String TRANSITIONS = "genmesh.breaker.transitions";
  public static final String STATE = "genmesh.breaker.state";
  public static final String SHED_TIERS = "genmesh.breaker.shed.tiers";
  public static final String SHEDDING_ALERT = "shedding";

  private final Vertx vertx;
  private final String region;
  private final MeterRegistry meters;
  private final Map<String, AtomicInteger> states = new ConcurrentHashMap<>();
  private final AtomicInteger shedTiers = new AtomicInteger();
  private final List<Meter> gauges = new ArrayList<>();

  /** @param models the configured models, whose state gauges exist from the start (at 0, closed) */
  public BreakerAlerts(Vertx vertx, String region, MeterRegistry meters, Collection<String> models) {
    this.vertx = vertx;
    this.region = region;
    this.meters = meters;
    state(BreakerKind.GLOBAL, Breakers.GLOBAL);
    models.forEach(model -> state(BreakerKind.MODEL, model));
    synchronized (gauges) {
      gauges.add(Gauge.builder(SHED_TIERS, shedTiers, AtomicInteger::get)
          .description("Tiers the global breaker sheds now (0 none, 1 relax, 2 relax and fast)")
          .tags("region", region)
          .register(meters));
    }
  }

  @Override
  public void changed(BreakerTransition t) {
    String text = String.format(Locale.ROOT, "region %s: %s breaker %s %s -> %s (%s)", region, t.kind().wireName(),
        t.name(), t.from().wireName(), t.to().wireName(), t.reason());
    if (t.to() == BreakerState.OPEN) {
      LOG.warn(text);
    } else {
      LOG.info(text);
    }
    meters.counter(TRANSITIONS, "region", region, "kind", t.kind().wireName(), "name", t.name(),
        "from", t.from().wireName(), "to", t.to().wireName()).increment();
    state(t.kind(), t.name()).set(t.to().gaugeValue());
    vertx.eventBus().publish(Addresses.ALERTS, t.toAlert(region));
  }

  @Override
  public void shedding(Set<Tier> tiers, double failureRate, Instant at) {
    List<String> names = tiers.stream().map(Tier::wireName).sorted().toList();
    if (tiers.isEmpty()) {
      LOG.info("region {}: no longer shedding submits", region);
    } else {
      LOG.warn("region {}: shedding {} submits ({} of recent attempts failed)", region, names,
          String.format(Locale.ROOT, "%.1f%%", failureRate * 100));
    }
    shedTiers.set(tiers.size());
    vertx.eventBus().publish(Addresses.ALERTS, new JsonObject()
        .put("type", SHEDDING_ALERT)
        .put("region", region)
        .put("tiers", new JsonArray(new ArrayList<>(names)))
        .put("failure_rate", failureRate)
        .put("at", at.toString()));
  }

  /** Unbinds the gauges, so a node started again on the same meter registry reports its own. */
  public void close() {
    synchronized (gauges) {
      gauges.forEach(meters::remove);
      gauges.clear();
    }
  }

  private AtomicInteger state(BreakerKind kind, String name) {
    return states.computeIfAbsent(kind.wireName() + "\u0000" + name, key -> {
      AtomicInteger holder = new AtomicInteger(BreakerState.CLOSED.gaugeValue());
      synchronized (gauges) {
        gauges.add(Gauge.builder(STATE, holder, AtomicInteger::get)
            .description("Circuit breaker state: 0 closed, 1 half-open, 2 open")
            .tags("region", region, "kind", kind.wireName(), "name", name)
            .register(meters));
      }
      return holder;
    });
  }
}
