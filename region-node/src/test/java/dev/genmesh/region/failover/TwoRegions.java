package dev.genmesh.region.failover;

import static dev.genmesh.testkit.Waits.await;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ReplicationConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.testkit.RegionPostgres;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * us-west (the origin) replicating to us-east (its ring peer, which adopts it), each with its own
 * PostgreSQL server (a {@link RegionPostgres} a test can SIGKILL), its own Vert.x (a region's
 * cluster) and region node; Redis and the object store are the shared test ones.
 */
final class TwoRegions implements AutoCloseable {
  static final String WEST = "us-west";
  static final String EAST = "us-east";

  final RegionPostgres westPg = RegionPostgres.start("genmesh_us_west");
  final RegionPostgres eastPg = RegionPostgres.start("genmesh_us_east");
  final GenmeshConfig config;
  Vertx westVertx = Vertx.vertx();
  final Vertx eastVertx = Vertx.vertx();
  NodeUnderTest west;
  NodeUnderTest east;
  /** Alerts published in us-west's cluster. */
  final List<JsonObject> westAlerts = new CopyOnWriteArrayList<>();

  TwoRegions(TestStores stores, ReplicationConfig.Mode mode, ReplicationConfig.PeerLoss onPeerLoss) {
    this(stores, mode, onPeerLoss, java.util.function.UnaryOperator.identity());
  }

  /** @param tweak changes the mesh's config before the nodes start (failover on, for instance) */
  TwoRegions(TestStores stores, ReplicationConfig.Mode mode, ReplicationConfig.PeerLoss onPeerLoss,
      java.util.function.UnaryOperator<GenmeshConfig> tweak) {
    this(stores, mode, onPeerLoss, tweak, server -> { });
  }

  /** @param beforeEast runs against us-east's server before its node (and so its subscription) starts */
  TwoRegions(TestStores stores, ReplicationConfig.Mode mode, ReplicationConfig.PeerLoss onPeerLoss,
      java.util.function.UnaryOperator<GenmeshConfig> tweak, java.util.function.Consumer<RegionPostgres> beforeEast) {
    Map<String, RegionPostgres> servers = new LinkedHashMap<>();
    servers.put(WEST, westPg);
    servers.put(EAST, eastPg);
    GenmeshConfig base = TestRegion.replicated(stores, servers);
    // Checks every 200 ms; a peer not streaming for 5 s is unreachable.
    config = tweak.apply(base.withReplication(base.replication().withMode(mode, onPeerLoss).withTimings(200, 5000)));
    westVertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, m -> westAlerts.add(m.body()));
    west = await(NodeUnderTest.deploy(westVertx, config, WEST));
    beforeEast.accept(eastPg);
    east = await(NodeUnderTest.deploy(eastVertx, config, EAST));
  }

  /**
   * Keeps a subscription made on {@code server} in its initial copy: no table-sync worker runs, so
   * every table stays in state {@code i} (the apply worker streams, skips their changes and
   * confirms them anyway) until {@link #resumeCopy}.
   */
  static void stallCopy(RegionPostgres server) {
    server.execute("ALTER SYSTEM SET max_sync_workers_per_subscription = 0");
    server.execute("SELECT pg_reload_conf()");
  }

  /** Lets us-east's subscription copy its tables again (PostgreSQL's default, 2 table-sync workers). */
  void resumeCopy() {
    eastPg.execute("ALTER SYSTEM SET max_sync_workers_per_subscription = 2");
    eastPg.execute("SELECT pg_reload_conf()");
  }

  /** us-west's replication state (GET /internal/replication). */
  JsonObject westReplication() {
    return await(west.get("/internal/replication")).bodyAsJsonObject();
  }

  /**
   * Waits until us-west's peer streams in {@code mode} and us-east's subscription has copied every
   * table (each relation {@code ready}). In sync mode us-west says {@code sync} only once it has
   * (before, a sync commit can return while a table's copy does not hold it, and an adoption would
   * miss it): checked here, every relation ready the moment it says so. In async mode nothing says
   * it, so the test waits for it: a copy cut by killing us-east's server can stall for good
   * (PostgreSQL 14: "replication slot pg_..._sync_... does not exist"), which a test that kills it
   * must not start with.
   */
  void awaitStreaming(String mode) {
    eventually("us-west's peer streams, mode " + mode, () -> {
      JsonObject state = westReplication();
      return state.getBoolean("peer_streaming") && mode.equals(state.getString("mode"));
    });
    if ("sync".equals(mode)) {
      List<Map<String, Object>> states = eastPg.query("SELECT srsubstate FROM pg_subscription_rel");
      if (!allReady(states)) {
        throw new AssertionError("us-west says sync while us-east's subscription is still copying: " + states);
      }
    } else {
      eventually("us-east's subscription copied every table of us-west's log",
          () -> allReady(eastPg.query("SELECT srsubstate FROM pg_subscription_rel")));
    }
  }

  private static boolean allReady(List<Map<String, Object>> states) {
    return !states.isEmpty() && states.stream().allMatch(row -> "r".equals(String.valueOf(row.get("srsubstate"))));
  }

  /** A GET to us-west's regional API that does not follow redirects. */
  /** How us-west refuses a WebSocket upgrade on {@code path} (fails the test if it accepts one). */
  io.vertx.core.http.UpgradeRejectedException westWebSocketRefusal(String path) {
    io.vertx.core.http.WebSocketClient client = westVertx.createWebSocketClient();
    try {
      Throwable refused = await(client.connect(west.port(), "127.0.0.1", path).transform(ar -> ar.succeeded()
          ? ar.result().close().compose(v -> io.vertx.core.Future.failedFuture("us-west accepted a WebSocket on " + path))
          : io.vertx.core.Future.succeededFuture(ar.cause())));
      return (io.vertx.core.http.UpgradeRejectedException) refused;
    } finally {
      client.close();
    }
  }

  HttpResponse<Buffer> westGetNoRedirect(String path) {
    WebClient client = WebClient.create(westVertx, new WebClientOptions().setFollowRedirects(false));
    try {
      return await(client.get(west.port(), "127.0.0.1", path).send());
    } finally {
      client.close();
    }
  }

  /** Rows of us-west's replica in us-east's database. */
  List<Map<String, Object>> replicaRows(String id) {
    return eastPg.query("SELECT id, status FROM us_west.requests WHERE id = ?", id);
  }

  /**
   * Waits up to 60 s for {@code condition} about replication; a timeout carries both servers' last
   * log lines (what the subscription and the walsender said).
   */
  void eventually(String what, java.util.function.BooleanSupplier condition) {
    try {
      Waits.eventually(60, 100, condition, what);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n--- us-west's server:\n" + westPg.logTail(30)
          + "\n--- us-east's server:\n" + eastPg.logTail(30), e);
    }
  }

  /** A new us-west node (after a crash), in a new Vert.x. */
  void restartWest() {
    westVertx = Vertx.vertx();
    westVertx.eventBus().<JsonObject>consumer(Addresses.ALERTS, m -> westAlerts.add(m.body()));
    west = await(NodeUnderTest.deploy(westVertx, config, WEST));
  }

  /** us-west's node and cluster gone at once (its database is killed by the test). */
  void crashWest() {
    await(westVertx.close());
  }

  @Override
  public void close() throws Exception {
    // Each step whatever the one before did (a failed test may leave a Vert.x that does not close in time):
    // the PostgreSQL servers are child processes that would outlive the test JVM.
    try {
      quietly(() -> await(westVertx.close()));
      quietly(() -> await(eastVertx.close()));
    } finally {
      try {
        westPg.close();
      } finally {
        eastPg.close();
      }
    }
  }

  private static void quietly(Runnable step) {
    try {
      step.run();
    } catch (RuntimeException | AssertionError e) {
      // already closed (a crash), or not closing in time: the servers are closed anyway
    }
  }
}
