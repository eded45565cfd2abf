package dev.genmesh.replication.impl;

import dev.genmesh.config.RegionConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * How far the peer's subscription has copied this region's publication: its table states are only
 * in the peer's own database ({@code pg_subscription_rel}), read through a pool of one connection
 * to it. Right after the subscription is created (or refreshed with a new table) a table is in its
 * initial copy: the peer's apply worker skips its changes and confirms them anyway, so a sync
 * commit returns while the peer does not hold it. Only once every published table is {@code ready}
 * is sync mode RPO 0.
 */
public final class PeerCopy {
  static final int CONNECT_TIMEOUT_MS = 2000;
  static final long READ_TIMEOUT_MS = 3000;

  /** The copy as read: tables of the publication, and how many of them the peer holds ready. */
  public record Progress(int ready, int tables) {
    /** Every published table is ready (a publication without tables is not: nothing is replicated yet). */
    public boolean done() {
      return tables > 0 && ready >= tables;
    }
  }

  private final Vertx vertx;
  private final Pool own;
  private final String channel;
  private final RegionConfig.PostgresConfig peer;
  private Pool remote;

  /**
   * @param own this region's database (the publication's)
   * @param channel the publication's and the peer's subscription's name
   * @param peer where the peer's database is
   */
  public PeerCopy(Vertx vertx, Pool own, String channel, RegionConfig.PostgresConfig peer) {
    this.vertx = vertx;
    this.own = own;
    this.channel = channel;
    this.peer = peer;
  }

  /** Reads the publication here and the subscription's ready tables there; fails if either cannot be read in time. */
  public Future<Progress> read() {
    return Catalog.publishedTables(own, channel)
        .compose(published -> Catalog.readyTables(remote(), channel).map(ready -> progress(published, ready)))
        .timeout(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .onFailure(err -> dropRemote());
  }

  private static Progress progress(Set<String> published, Set<String> ready) {
    return new Progress((int) published.stream().filter(ready::contains).count(), published.size());
  }

  /** A read that failed (or hung: a cut network) may leave the connection unusable: the next read opens a new one. */
  private void dropRemote() {
    if (remote != null) {
      remote.close();
      remote = null;
    }
  }

  private Pool remote() {
    if (remote == null) {
      PgConnectOptions connect = new PgConnectOptions().setHost(peer.host()).setPort(peer.port())
          .setDatabase(peer.database()).setUser(peer.user());
      if (!peer.password().isBlank()) {
        connect.setPassword(peer.password());
      }
      PoolOptions options = new PoolOptions().setMaxSize(1).setName("genmesh-replication-peer-" + channel)
          .setConnectionTimeout(CONNECT_TIMEOUT_MS).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS);
      remote = PgBuilder.pool().with(options).with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_MS))
          .connectingTo(connect).using(vertx).build();
    }
    return remote;
  }

  public void close() {
    dropRemote();
  }
}
