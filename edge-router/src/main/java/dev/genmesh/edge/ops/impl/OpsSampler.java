package dev.genmesh.edge.ops.impl;

import dev.genmesh.config.EdgeConfig;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionHealth;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples every region for the operator console, every {@code edge.ops.sample_interval_ms}: its
 * failover status, its workers and its ops view (queues, breakers, scaling decisions, alerts),
 * with the edge's own view of the region (health, failover decision) beside them. Keeps the last
 * snapshot and {@code edge.ops.history_ms} of small samples for the console's charts, and tells
 * the console's live streams about each new snapshot.
 */
public final class OpsSampler {
  public static final String FAILURES = "genmesh.edge.ops.sample.failures";
  static final String STATUS = "/failover/status";
  static final String WORKERS = "/regional/v1/workers";
  static final String OPS = "/internal/ops";
  private static final Logger LOG = LoggerFactory.getLogger(OpsSampler.class);

  private final Vertx vertx;
  private final Map<String, RegionClient> regions;
  private final RegionHealth health;
  private final Supplier<JsonObject> failover;
  private final EdgeConfig.Ops settings;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Deque<JsonObject> history = new ArrayDeque<>();
  private final List<Consumer<JsonObject>> listeners = new CopyOnWriteArrayList<>();
  /** Region calls that failed in a row, per region and path: a region down is logged once, not every sample. */
  private final Map<String, Boolean> failing = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile JsonObject latest;
  private long timer = -1;
  private boolean sampling;

  /** @param failover the edge's failover view: {@code {enabled, regions: {name: {state, serving}}}} */
  public OpsSampler(Vertx vertx, Map<String, RegionClient> regions, RegionHealth health, Supplier<JsonObject> failover,
      EdgeConfig.Ops settings, Clock clock, MeterRegistry meters) {
    this.vertx = vertx;
    this.regions = regions;
    this.health = health;
    this.failover = failover;
    this.settings = settings;
    this.clock = clock;
    this.meters = meters;
  }

  public void start() {
    sample();
    timer = vertx.setPeriodic(settings.sampleIntervalMs(), tick -> sample());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** The last snapshot; null before the first sample completed. */
  public JsonObject latest() {
    return latest;
  }

  /** The small samples of the last {@code history_ms}, oldest first. */
  public synchronized JsonArray history() {
    return new JsonArray(new ArrayList<>(history));
  }

  /** Called with each new snapshot (on the edge's event loop) until {@link #unsubscribe}. */
  public void subscribe(Consumer<JsonObject> listener) {
    listeners.add(listener);
  }

  public void unsubscribe(Consumer<JsonObject> listener) {
    listeners.remove(listener);
  }

  public EdgeConfig.Ops settings() {
    return settings;
  }

  private void sample() {
    if (sampling) {
      return; // the previous sample still waits for a slow region: skip this tick
    }
    sampling = true;
    Instant at = clock.instant();
    List<String> names = regions.keySet().stream().sorted().toList();
    List<Future<JsonObject>> gathered = names.stream().map(name -> region(regions.get(name))).toList();
    Future.join(gathered).onComplete(done -> {
      sampling = false;
      JsonObject perRegion = new JsonObject();
      for (int i = 0; i < names.size(); i++) {
        perRegion.put(names.get(i), gathered.get(i).result());
      }
      JsonObject snapshot = new JsonObject().put("at", at.toString())
          .put("sample_interval_ms", settings.sampleIntervalMs())
          .put("edge", new JsonObject().put("regions", health.toJson()).put("failover", failover.get()))
          .put("regions", perRegion);
      latest = snapshot;
      remember(OpsSamples.compact(snapshot), at);
      listeners.forEach(listener -> listener.accept(snapshot));
    });
  }

  private synchronized void remember(JsonObject sample, Instant at) {
    history.addLast(sample);
    Instant oldest = at.minusMillis(settings.historyMs());
    while (!history.isEmpty() && Instant.parse(history.peekFirst().getString("at")).isBefore(oldest)) {
      history.removeFirst();
    }
  }

  /** Never fails: what a region did not answer is {@code null} with an {@code errors} entry. */
  private Future<JsonObject> region(RegionClient region) {
    Future<JsonObject> status = call(region, STATUS);
    Future<JsonObject> workers = call(region, WORKERS);
    Future<JsonObject> ops = call(region, OPS);
    return Future.join(status, workers, ops).transform(done -> {
      JsonObject view = new JsonObject().put("status", status.result())
          .put("workers", workers.succeeded() ? workers.result().getJsonArray("workers") : null)
          .put("ops", ops.result());
      JsonObject errors = new JsonObject();
      for (var entry : Map.of(STATUS, status, WORKERS, workers, OPS, ops).entrySet()) {
        if (entry.getValue().failed()) {
          errors.put(entry.getKey(), String.valueOf(entry.getValue().cause().getMessage()));
        }
      }
      view.put("reachable", errors.size() < 3).put("errors", errors);
      return Future.succeededFuture(view);
    });
  }

  private Future<JsonObject> call(RegionClient region, String path) {
    String key = region.name() + " " + path;
    return region.internal(path).compose(this::body).andThen(done -> {
      if (done.succeeded()) {
        if (failing.remove(key) != null) {
          LOG.info("ops console: region {} answers {} again", region.name(), path);
        }
      } else {
        Counter.builder(FAILURES).description("Region calls of the operator console's sampling that failed")
            .tags("region", region.name(), "path", path).register(meters).increment();
        if (failing.put(key, Boolean.TRUE) == null) {
          LOG.warn("ops console: region {} does not answer {} ({}); counted in {} until it does", region.name(), path,
              done.cause().toString(), FAILURES);
        }
      }
    });
  }

  private Future<JsonObject> body(HttpResponse<Buffer> response) {
    if (response.statusCode() != 200) {
      return Future.failedFuture("status " + response.statusCode());
    }
    try {
      return Future.succeededFuture(response.bodyAsJsonObject());
    } catch (RuntimeException e) {
      return Future.failedFuture("not JSON: " + e.getMessage());
    }
  }
}
