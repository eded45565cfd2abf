package dev.genmesh.replication.impl;

import dev.genmesh.config.ReplicationConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.replication.ReplicationStatus;
import dev.genmesh.replication.ReplicationStatus.Mode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publishing side's watch over its peer: reads the peer's walsender every
 * {@code replication.check_interval_ms}, publishes lag and mode as metrics, and in sync mode
 * decides what a commit waits for ({@code synchronous_standby_names}): the peer while it streams;
 * after {@code peer_timeout_ms} without it, nothing (degrade, with an alert) or still the peer
 * while submits are refused (refuse).
 */
public final class PeerWatch {
  private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);

  private final Vertx vertx;
  private final ReplicationConfig config;
  private final String region;
  private final String peer;
  private final String channel;
  private final Pool pool;
  private final Clock clock;
  private final MeterRegistry meters;
  private final List<io.micrometer.core.instrument.Meter> registered = new ArrayList<>();
  private final long startedAt;

  private volatile ReplicationStatus status;
  private long lastStreamingAt = -1;
  private boolean alerted;
  private boolean failing;
  private boolean ticking;

  public PeerWatch(Vertx vertx, ReplicationConfig config, String region, String peer, String channel, Pool pool,
      MeterRegistry meters, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.region = region;
    this.peer = peer;
    this.channel = channel;
    this.pool = pool;
    this.meters = meters;
    this.clock = clock;
    this.startedAt = clock.millis();
    boolean sync = config.mode() == ReplicationConfig.Mode.SYNC;
    boolean refuse = sync && config.onPeerLoss() == ReplicationConfig.PeerLoss.REFUSE;
    this.status = new ReplicationStatus(sync ? Mode.DEGRADED : Mode.ASYNC, peer, false, -1, -1, refuse,
        "the peer " + peer + " has not connected yet");
    registered.add(Gauge.builder("genmesh.replication.lag.bytes", () -> status.lagBytes()).tag("region", region)
        .description("WAL of this region's log its peer has not confirmed yet (-1: not connected)").register(meters));
    registered.add(Gauge.builder("genmesh.replication.lag.seconds", () -> status.lagMs() < 0 ? -1 : status.lagMs() / 1000.0)
        .tag("region", region).description("the peer's replay lag (-1: unknown or idle)").register(meters));
    registered.add(Gauge.builder("genmesh.replication.peer.streaming", () -> status.peerStreaming() ? 1 : 0)
        .tag("region", region).tag("peer", peer).register(meters));
    for (Mode mode : Mode.values()) {
      registered.add(Gauge.builder("genmesh.replication.mode", () -> status.mode() == mode ? 1 : 0)
          .tag("region", region).tag("mode", mode.name().toLowerCase(java.util.Locale.ROOT))
          .description("1 for the mode replication is in now").register(meters));
    }
  }

  public ReplicationStatus status() {
    return status;
  }

  /** One check; never fails (a failed check is logged once per streak and counted). */
  public Future<Void> tick() {
    if (ticking) {
      return Future.succeededFuture();
    }
    ticking = true;
    return Catalog.stream(pool, channel)
        .compose(this::decide)
        .onSuccess(v -> {
          if (failing) {
            LOG.info("region {}: replication checks work again", region);
          }
          failing = false;
        })
        .recover(err -> {
          meters.counter("genmesh.replication.check.errors", "region", region).increment();
          if (!failing) {
            LOG.warn("region {}: cannot read the replication state: {}", region, err.getMessage());
          }
          failing = true;
          return Future.succeededFuture();
        })
        .eventually(() -> {
          ticking = false;
          return Future.succeededFuture();
        });
  }

  private Future<Void> decide(Optional<Catalog.Stream> stream) {
    long now = clock.millis();
    boolean streaming = stream.map(Catalog.Stream::streaming).orElse(false);
    long lagBytes = stream.map(Catalog.Stream::lagBytes).orElse(-1L);
    long lagMs = stream.map(Catalog.Stream::lagMs).orElse(-1L);
    if (streaming) {
      lastStreamingAt = now;
    }
    if (config.mode() == ReplicationConfig.Mode.ASYNC) {
      status = new ReplicationStatus(Mode.ASYNC, peer, streaming, lagBytes, lagMs, false,
          streaming ? null : "the peer " + peer + " is not streaming");
      return Catalog.synchronousStandbys(pool, "");
    }
    long since = lastStreamingAt < 0 ? startedAt : lastStreamingAt;
    boolean lost = !streaming && now - since >= config.peerTimeoutMs();
    boolean refuse = config.onPeerLoss() == ReplicationConfig.PeerLoss.REFUSE;
    if (streaming) {
      if (alerted) {
        alert("replication_restored", "the peer " + peer + " streams again: commits wait for it (sync)");
        alerted = false;
      }
      status = new ReplicationStatus(Mode.SYNC, peer, true, lagBytes, lagMs, false, null);
      return Catalog.synchronousStandbys(pool, channel);
    }
    if (lastStreamingAt < 0) {
      // Not connected since this node started: commits do not wait for a peer that may never have
      // subscribed (or whose subscription an adoption paused); refuse takes no submit meanwhile.
      if (lost && !alerted) {
        alert(refuse ? "replication_refusing" : "replication_degraded", "the peer " + peer + " has not connected: "
            + (refuse ? "submits are refused until it does" : "commits do not wait for it (async) until it does"));
        alerted = true;
      }
      status = new ReplicationStatus(Mode.DEGRADED, peer, false, lagBytes, lagMs, refuse,
          "the peer " + peer + " has not connected since this node started");
      return Catalog.synchronousStandbys(pool, "");
    }
    if (!lost) {
      // Within the grace: leave what commits wait for as it is (a short blip only delays them).
      status = new ReplicationStatus(status.mode(), peer, false, lagBytes, lagMs, false, status.problem());
      return Future.succeededFuture();
    }
    if (refuse) {
      // Commits keep waiting for the peer; new submits are refused (before anything is written).
      if (!alerted) {
        alert("replication_refusing", "the peer " + peer + " is unreachable: submits are refused until it is back");
        alerted = true;
      }
      status = new ReplicationStatus(Mode.SYNC, peer, false, lagBytes, lagMs, true,
          "the peer " + peer + " is unreachable; sync replication refuses submits");
      return Catalog.synchronousStandbys(pool, channel);
    }
    if (!alerted) {
      alert("replication_degraded", "the peer " + peer + " is unreachable: commits no longer wait for it (async)"
          + " until it streams again");
      alerted = true;
    }
    status = new ReplicationStatus(Mode.DEGRADED, peer, false, lagBytes, lagMs, false,
        "the peer " + peer + " is unreachable; degraded to async");
    return Catalog.synchronousStandbys(pool, "");
  }

  private void alert(String type, String message) {
    LOG.warn("region {}: {}", region, message);
    meters.counter("genmesh.replication.alerts", "region", region, "type", type).increment();
    vertx.eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", type).put("region", region)
        .put("peer", peer).put("message", message).put("at", clock.instant().toString()));
  }

  public void close() {
    registered.forEach(meters::remove);
    registered.clear();
  }
}
