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
 * while submits are refused (refuse). It reports SYNC (RPO 0) only once the peer's subscription
 * has copied every published table ({@link PeerCopy}); while it streams but still copies, commits
 * wait for it as in SYNC, but the mode is DEGRADED (or refusing, with refuse).
 */
public final class PeerWatch {
  private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);
  /**
   * Once the copy is done, how often it is read again anyway: a subscription made anew between two
   * checks (the stream not seen lost) starts a new copy.
   */
  static final long COPY_RECHECK_MS = 10_000;

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
  private final PeerCopy copy;

  private volatile ReplicationStatus status;
  private long lastStreamingAt = -1;
  private boolean alerted;
  private boolean failing;
  private boolean ticking;
  /** The peer's copy as last read (null: not read since the stream was last seen lost). */
  private PeerCopy.Progress copied;
  private long copyReadAt;
  private String copyFailure;
  /** The last read of the copy found it done (kept while the stream is lost: what the peer held when it left). */
  private boolean copyDone;
  private boolean copyAlerted;

  /** @param copy reads the peer's subscription's table states (sync mode) */
  public PeerWatch(Vertx vertx, ReplicationConfig config, String region, String peer, String channel, Pool pool,
      PeerCopy copy, MeterRegistry meters, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.region = region;
    this.peer = peer;
    this.channel = channel;
    this.pool = pool;
    this.copy = copy;
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
    registered.add(Gauge.builder("genmesh.replication.peer.tables_ready", () -> status.peerTablesReady())
        .tag("region", region).tag("peer", peer)
        .description("published tables the peer's subscription has copied (ready); -1: not read").register(meters));
    registered.add(Gauge.builder("genmesh.replication.peer.tables", () -> status.peerTables())
        .tag("region", region).tag("peer", peer).description("tables this region publishes; -1: not read")
        .register(meters));
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
        .compose(stream -> readCopy(stream).compose(v -> decide(stream)))
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

  /**
   * Sync mode, the peer streaming: reads its copy, unless it is known done (then again only every
   * {@link #COPY_RECHECK_MS}, or when the publication's tables changed: a refresh of the peer's
   * subscription adds them in their initial copy). A failed read leaves the copy unknown: not SYNC.
   */
  private Future<Void> readCopy(Optional<Catalog.Stream> stream) {
    boolean streaming = stream.map(Catalog.Stream::streaming).orElse(false);
    if (!streaming) {
      copied = null; // it may come back as a new subscription, with a new copy
    }
    if (config.mode() != ReplicationConfig.Mode.SYNC || !streaming) {
      return Future.succeededFuture();
    }
    long now = clock.millis();
    if (copied != null && copied.done() && copied.tables() == stream.get().published()
        && now - copyReadAt < COPY_RECHECK_MS) {
      return Future.succeededFuture();
    }
    return copy.read().<Void>map(progress -> {
      if (copyFailure != null) {
        LOG.info("region {}: {}'s subscription of this region's log can be read again", region, peer);
      }
      copyFailure = null;
      copied = progress;
      copyDone = progress.done();
      copyReadAt = now;
      return null;
    }).recover(err -> {
      meters.counter("genmesh.replication.peer.check.errors", "region", region, "peer", peer).increment();
      if (copyFailure == null) {
        LOG.warn("region {}: cannot read {}'s subscription of this region's log ({}); not sync until it can", region,
            peer, err.getMessage());
      }
      copyFailure = String.valueOf(err.getMessage());
      copied = null;
      copyDone = false;
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
      status = status(Mode.ASYNC, streaming, lagBytes, lagMs, false,
          streaming ? null : "the peer " + peer + " is not streaming");
      return Catalog.synchronousStandbys(pool, "");
    }
    long since = lastStreamingAt < 0 ? startedAt : lastStreamingAt;
    boolean lost = !streaming && now - since >= config.peerTimeoutMs();
    boolean refuse = config.onPeerLoss() == ReplicationConfig.PeerLoss.REFUSE;
    if (streaming) {
      if (copied == null || !copied.done()) {
        return copying(lagBytes, lagMs, refuse);
      }
      if (alerted || copyAlerted) {
        alert("replication_restored", "the peer " + peer + (alerted ? " streams again" : " copied the initial request log")
            + ": commits wait for it and it holds them (sync)");
        alerted = false;
        copyAlerted = false;
      }
      status = status(Mode.SYNC, true, lagBytes, lagMs, false, null);
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
      status = status(Mode.DEGRADED, false, lagBytes, lagMs, refuse,
          "the peer " + peer + " has not connected since this node started");
      return Catalog.synchronousStandbys(pool, "");
    }
    if (!lost) {
      // Within the grace: leave what commits wait for as it is (a short blip only delays them).
      status = status(status.mode(), false, lagBytes, lagMs, status.refusing(), status.problem());
      return Future.succeededFuture();
    }
    if (refuse) {
      // Commits keep waiting for the peer; new submits are refused (before anything is written).
      // Sync only if the peer had copied every table when it left.
      if (!alerted) {
        alert("replication_refusing", "the peer " + peer + " is unreachable: submits are refused until it is back");
        alerted = true;
      }
      status = status(copyDone ? Mode.SYNC : Mode.DEGRADED, false, lagBytes, lagMs, true,
          "the peer " + peer + " is unreachable; sync replication refuses submits");
      return Catalog.synchronousStandbys(pool, channel);
    }
    if (!alerted) {
      alert("replication_degraded", "the peer " + peer + " is unreachable: commits no longer wait for it (async)"
          + " until it streams again");
      alerted = true;
    }
    status = status(Mode.DEGRADED, false, lagBytes, lagMs, false,
        "the peer " + peer + " is unreachable; degraded to async");
    return Catalog.synchronousStandbys(pool, "");
  }

  /**
   * The peer streams but has not copied every table (or its copy cannot be read). Commits keep
   * waiting for it, as in SYNC: that costs nothing more than sync does, the tables already ready
   * hold what they confirm, and no commit slips through between the copy's end and the setting
   * being made again. But the mode says it: not RPO 0, results held (docs/architecture.md).
   */
  private Future<Void> copying(long lagBytes, long lagMs, boolean refuse) {
    String problem = (copied == null
        ? "cannot tell whether the peer " + peer + " has copied the initial request log (" + copyFailure + ")"
        : "the peer " + peer + " is copying the initial request log: " + copied.ready() + " of " + copied.tables()
            + " tables ready") + (refuse ? "; submits are refused until it is done" : "");
    if (copied != null && !copyAlerted) {
      alert("replication_copying", problem + (refuse ? "" : "; commits are not RPO 0 until it is done"));
      copyAlerted = true;
    }
    status = status(Mode.DEGRADED, true, lagBytes, lagMs, refuse, problem);
    return Catalog.synchronousStandbys(pool, channel);
  }

  private ReplicationStatus status(Mode mode, boolean streaming, long lagBytes, long lagMs, boolean refusing,
      String problem) {
    return new ReplicationStatus(mode, peer, streaming, lagBytes, lagMs, refusing, problem,
        copied == null ? -1 : copied.ready(), copied == null ? -1 : copied.tables());
  }

  private void alert(String type, String message) {
    LOG.warn("region {}: {}", region, message);
    meters.counter("genmesh.replication.alerts", "region", region, "type", type).increment();
    vertx.eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", type).put("region", region)
        .put("peer", peer).put("message", message).put("at", clock.instant().toString()));
  }

  public void close() {
    copy.close();
    registered.forEach(meters::remove);
    registered.clear();
  }
}
