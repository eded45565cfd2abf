package dev.genmesh.edge.regions.impl;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the edge believes about each region's health. Polls {@code /health/ready} of every
 * region: a 200 makes it healthy, anything else (or no answer in time) unhealthy. A failed
 * forwarded submit marks a region unhealthy at once, without waiting for the next poll.
 */
public final class RegionHealth {
  private static final Logger LOG = LoggerFactory.getLogger(RegionHealth.class);

  /** One region's state and when it last changed or was checked. */
  public record Status(HealthState state, Instant since, Instant checkedAt, String reason) {
    JsonObject toJson() {
      JsonObject json = new JsonObject().put("status", state.wireName()).put("since", since.toString());
      if (checkedAt != null) {
        json.put("checked_at", checkedAt.toString());
      }
      if (reason != null) {
        json.put("reason", reason);
      }
      return json;
    }
  }

  private final Vertx vertx;
  private final Map<String, RegionClient> regions;
  private final long intervalMs;
  private final long pollTimeoutMs;
  private final Clock clock;
  private final Map<String, Status> statuses = new ConcurrentHashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private long timerId = -1;

  public RegionHealth(Vertx vertx, Map<String, RegionClient> regions, long intervalMs, long pollTimeoutMs, Clock clock) {
    this.vertx = vertx;
    this.regions = Map.copyOf(regions);
    this.intervalMs = intervalMs;
    this.pollTimeoutMs = pollTimeoutMs;
    this.clock = clock;
    Instant now = clock.instant();
    regions.keySet().forEach(name -> statuses.put(name, new Status(HealthState.UNKNOWN, now, null, null)));
  }

  /** Polls every region now, then every interval. */
  public void start() {
    pollAll();
    timerId = vertx.setPeriodic(intervalMs, tick -> pollAll());
  }

  public void stop() {
    if (timerId != -1) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  /** One round of polls; completes when every region has answered or timed out. */
  public Future<Void> pollAll() {
    List<Future<Void>> polls = new ArrayList<>();
    regions.values().forEach(region -> polls.add(poll(region)));
    return Future.join(polls).mapEmpty();
  }

  private Future<Void> poll(RegionClient region) {
    String name = region.name();
    if (!inFlight.add(name)) {
      return Future.succeededFuture(); // the previous poll is still waiting for its timeout
    }
    return region.ready(pollTimeoutMs)
        .andThen(answer -> {
          inFlight.remove(name);
          if (answer.succeeded() && answer.result().statusCode() == 200) {
            markHealthy(name, "ready");
          } else if (answer.succeeded()) {
            markUnhealthy(name, "readiness answered " + answer.result().statusCode());
          } else {
            markUnhealthy(name, "readiness poll failed: " + answer.cause().getMessage());
          }
        })
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  public void markHealthy(String region, String reason) {
    change(region, HealthState.HEALTHY, reason);
  }

  public void markUnhealthy(String region, String reason) {
    change(region, HealthState.UNHEALTHY, reason);
  }

  private void change(String region, HealthState state, String reason) {
    Instant now = clock.instant();
    Status before = statuses.get(region);
    if (before == null) {
      return;
    }
    if (before.state() == state) {
      statuses.put(region, new Status(state, before.since(), now, reason));
      return;
    }
    statuses.put(region, new Status(state, now, now, reason));
    if (state == HealthState.UNHEALTHY) {
      LOG.warn("region {} is now unhealthy (was {}): {}", region, before.state().wireName(), reason);
    } else {
      LOG.info("region {} is now {} (was {}): {}", region, state.wireName(), before.state().wireName(), reason);
    }
  }

  public HealthState state(String region) {
    Status status = statuses.get(region);
    return status == null ? HealthState.UNKNOWN : status.state();
  }

  public Map<String, HealthState> snapshot() {
    return statuses.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().state()));
  }

  public int healthyCount() {
    return (int) statuses.values().stream().filter(s -> s.state() == HealthState.HEALTHY).count();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    new TreeMap<>(statuses).forEach((name, status) -> json.put(name, status.toJson()));
    return json;
  }
}
