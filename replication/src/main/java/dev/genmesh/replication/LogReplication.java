package dev.genmesh.replication;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.config.ReplicationConfig;
import dev.genmesh.replication.ReplicationStatus.Mode;
import dev.genmesh.replication.impl.Catalog;
import dev.genmesh.replication.impl.PeerCopy;
import dev.genmesh.replication.impl.PeerWatch;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One region's side of request-log replication (replication/README.md), run by each of its
 * region nodes: it publishes the region's tables to its peer (and, in sync mode, makes commits
 * wait for the peer: {@link PeerWatch}), and it holds the replica of its ward (the region whose
 * peer it is) through a subscription in its own database. Set-up is idempotent and retried until
 * it succeeds, so either side may start first or restart at any time. Nothing here fails the node:
 * a region that cannot replicate runs alone and says why in {@link #status()}.
 */
public final class LogReplication {
  private static final Logger LOG = LoggerFactory.getLogger(LogReplication.class);

  private final Vertx vertx;
  private final ReplicationConfig config;
  private final String region;
  private final Optional<String> peer;
  private final Optional<RegionConfig.PostgresConfig> peerPostgres;
  private final Optional<RegionConfig> ward;
  private final Pool pool;
  private final List<String> tables;
  private final MeterRegistry meters;
  private final Clock clock;

  private volatile ReplicationStatus off;
  private volatile PeerWatch watch;
  private volatile boolean wardReady;
  private long timer = -1;
  private boolean wardBusy;

  /**
   * @param pool the region's own database (its search_path the region's schema)
   * @param tables the region's tables to replicate (in its schema)
   */
  public LogReplication(Vertx vertx, GenmeshConfig config, String region, Pool pool, List<String> tables,
      MeterRegistry meters, Clock clock) {
    this.vertx = vertx;
    this.config = config.replication();
    this.region = region;
    this.pool = pool;
    this.tables = List.copyOf(tables);
    this.meters = meters;
    this.clock = clock;
    boolean on = this.config.enabled();
    this.peer = on ? this.config.peerOf(region).filter(config.regions()::containsKey) : Optional.empty();
    this.peerPostgres = peer.map(p -> config.regions().get(p).postgres());
    this.ward = on ? this.config.wardOf(region).map(config.regions()::get) : Optional.empty();
    String why = !on ? "replication.enabled is false" : "no peer region for " + region + " among "
        + config.regions().keySet() + " (replication.peers)";
    this.off = new ReplicationStatus(Mode.OFF, null, false, -1, -1, false, peer.isEmpty() ? why : null);
  }

  /** What {@code synchronous_commit} the region's connections use: {@code on} in sync mode, else {@code local}. */
  public static String sessionSynchronousCommit(ReplicationConfig config) {
    return config.enabled() && config.mode() == ReplicationConfig.Mode.SYNC ? "on" : "local";
  }

  /**
   * Before the node's first commit: commits do not wait for the peer until it is seen streaming
   * again ({@code synchronous_standby_names} survives a restart in the server's config, and a
   * peer whose subscription is paused or gone would hold every commit, the start-up's included).
   * Never fails: a user without the right to change it is logged.
   */
  public static Future<Void> beforeFirstCommit(Pool pool, GenmeshConfig config, String region) {
    if (!config.replication().enabled() || config.replication().peerOf(region).isEmpty()) {
      return Future.succeededFuture();
    }
    return Catalog.synchronousStandbys(pool, "").recover(err -> {
      LOG.warn("region {}: cannot reset synchronous_standby_names ({}); commits may wait for the peer until it streams",
          region, err.getMessage());
      return Future.succeededFuture();
    });
  }

  /** The region whose replica this region holds, if any. */
  public Optional<String> ward() {
    return ward.map(RegionConfig::name);
  }

  /**
   * Sets up both sides and starts the watch; never fails. {@code replicaTables} creates the
   * ward's tables in its schema of this database (the region node's migrations), before the
   * subscription fills them.
   */
  public Future<Void> start(Function<String, Future<Void>> replicaTables) {
    Future<Void> publishing = peer.isEmpty() ? logAlone() : publish();
    return publishing
        .compose(v -> ward.isEmpty() ? Future.<Void>succeededFuture()
            : replicaTables.apply(RegionSchemas.schemaOf(ward.get().name()))
                .compose(x -> subscribeWard())
                .recover(err -> {
                  LOG.warn("region {}: the replica of {} is not set up yet ({}); retrying", region, ward.get().name(),
                      err.getMessage());
                  return Future.succeededFuture();
                }))
        .onComplete(v -> {
          timer = vertx.setPeriodic(config.checkIntervalMs(), id -> tick());
          tick();
        });
  }

  private Future<Void> logAlone() {
    LOG.warn("region {}: request log NOT replicated: {}", region, off.problem());
    return Future.succeededFuture();
  }

  private Future<Void> publish() {
    String schema = RegionSchemas.schemaOf(region);
    return Catalog.walLevel(pool).compose(level -> {
      if (!"logical".equals(level)) {
        off = new ReplicationStatus(Mode.OFF, peer.get(), false, -1, -1, false,
            "the database runs with wal_level=" + level + "; replication needs wal_level=logical");
        LOG.error("region {}: request log NOT replicated to {}: {}", region, peer.get(), off.problem());
        return Future.succeededFuture();
      }
      return Catalog.ensurePublication(pool, RegionSchemas.channelOf(region), schema, tables)
          .onSuccess(v -> {
            String channel = RegionSchemas.channelOf(region);
            watch = new PeerWatch(vertx, config, region, peer.get(), channel, pool,
                new PeerCopy(vertx, pool, channel, peerPostgres.orElseThrow()), meters, clock);
            LOG.info("region {}: request log published to {} ({} mode)", region, peer.get(),
                config.mode().name().toLowerCase(java.util.Locale.ROOT));
          })
          .recover(err -> {
            off = new ReplicationStatus(Mode.OFF, peer.get(), false, -1, -1, false,
                "cannot publish the request log: " + err.getMessage());
            LOG.error("region {}: request log NOT replicated: {}", region, off.problem());
            return Future.succeededFuture();
          });
    });
  }

  /** Creates the subscription (or updates its connection); leaves a disabled one (an adoption paused it) disabled. */
  private Future<Void> subscribeWard() {
    RegionConfig w = ward.orElseThrow();
    String name = RegionSchemas.channelOf(w.name());
    RegionConfig.PostgresConfig pg = w.postgres();
    String conninfo = Catalog.conninfo(pg.host(), pg.port(), pg.database(), pg.user(), pg.password());
    return Catalog.subscription(pool, name).compose(existing -> {
      if (existing.isEmpty()) {
        // Only once the ward publishes: a slot made before its publication would fail to decode for good.
        return wardPublishes(w, name).compose(v -> Catalog.createSubscription(pool, name, conninfo))
            .onSuccess(v -> LOG.info("region {}: subscribed to {}'s request log (its replica is schema {})", region,
                w.name(), RegionSchemas.schemaOf(w.name())))
            .compose(v -> Catalog.subscription(pool, name));
      }
      Future<Void> connection = existing.get().conninfo().equals(conninfo) ? Future.succeededFuture()
          : Catalog.alterConnection(pool, name, conninfo);
      return connection.map(v -> existing);
    }).compose(sub -> {
      if (sub.isPresent() && sub.get().tables() < tables.size() && sub.get().enabled()) {
        return Catalog.refresh(pool, name).compose(v -> Catalog.subscription(pool, name));
      }
      return Future.succeededFuture(sub);
    }).compose(sub -> {
      if (sub.isPresent() && sub.get().tables() >= tables.size()) {
        wardReady = true;
        return Future.succeededFuture();
      }
      return Future.failedFuture("the publication of " + w.name() + " has no tables yet");
    });
  }

  /** Fails until the ward's own database holds its publication. */
  private Future<Void> wardPublishes(RegionConfig w, String publication) {
    RegionConfig.PostgresConfig pg = w.postgres();
    PgConnectOptions connect = new PgConnectOptions().setHost(pg.host()).setPort(pg.port()).setDatabase(pg.database())
        .setUser(pg.user());
    if (!pg.password().isBlank()) {
      connect.setPassword(pg.password());
    }
    Pool remote = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(connect).using(vertx).build();
    return remote.preparedQuery("SELECT 1 FROM pg_publication WHERE pubname = $1").execute(Tuple.of(publication))
        .<Void>compose(rows -> rows.size() > 0 ? Future.succeededFuture()
            : Future.failedFuture(w.name() + " does not publish its request log yet"))
        .eventually(remote::close);
  }

  private void tick() {
    if (watch != null) {
      watch.tick();
    }
    if (ward.isPresent() && !wardReady && !wardBusy) {
      wardBusy = true;
      subscribeWard().onComplete(ar -> {
        wardBusy = false;
        if (ar.failed()) {
          LOG.debug("region {}: replica of {} not ready: {}", region, ward.get().name(), ar.cause().getMessage());
        }
      });
    }
  }

  /** Now: mode, peer, lag, whether submits are refused. */
  public ReplicationStatus status() {
    PeerWatch current = watch;
    return current == null ? off : current.status();
  }

  /** Sync mode with {@code on_peer_loss: refuse} and the peer unreachable: take no new request. */
  public boolean refusing() {
    return status().refusing();
  }

  /**
   * Stops applying the ward's changes (before adopting its requests: the replica must not move
   * under the adoption, nor take changes from a ward that still runs behind a partition).
   */
  public Future<Void> pauseWard() {
    return ward.isEmpty() ? Future.succeededFuture()
        : Catalog.enable(pool, RegionSchemas.channelOf(ward.get().name()), false)
            .onSuccess(v -> LOG.info("region {}: replication from {} paused", region, ward.get().name()));
  }

  /** Applies the ward's changes again (it is back and reconciled). */
  public Future<Void> resumeWard() {
    return ward.isEmpty() ? Future.succeededFuture()
        : Catalog.enable(pool, RegionSchemas.channelOf(ward.get().name()), true)
            .onSuccess(v -> LOG.info("region {}: replication from {} resumed", region, ward.get().name()));
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (watch != null) {
      watch.close();
    }
    return Future.succeededFuture();
  }
}
