package dev.genmesh.region.failover.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.requests.impl.PostgresPool;
import dev.genmesh.replication.RegionSchemas;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A starting region's reconciliation with its peer, before it dispatches anything: the requests
 * the peer adopted while this region was down (the peer's {@code adoptions}) become ADOPTED here,
 * terminal, never run again, answered by the adopter. The peer's database is asked directly (its
 * node may be busy); while it cannot be reached the region waits up to
 * {@code replication.reconcile_timeout_ms}, then starts without knowing, with an alert. A region whose
 * log is not published (replication off, no peer, no wal_level=logical) has no replica to adopt from: nothing to ask.
 */
public final class FailBack {
  private static final Logger LOG = LoggerFactory.getLogger(FailBack.class);
  private static final long RETRY_MS = 500;

  private final Vertx vertx;
  private final GenmeshConfig config;
  private final String region;
  private final Pool pool;
  private final MeterRegistry meters;
  private final Clock clock;
  private final java.util.function.Consumer<dev.genmesh.protocol.ProgressEvent> publish;

  /**
   * @param publish publishes the {@code region_failover} event each newly ADOPTED request gets here ({@code moved: true}):
   *     a stream still open on it ends, and the edge resumes it at the adopter
   */
  public FailBack(Vertx vertx, GenmeshConfig config, String region, Pool pool, MeterRegistry meters, Clock clock,
      java.util.function.Consumer<dev.genmesh.protocol.ProgressEvent> publish) {
    this.publish = publish;
    this.vertx = vertx;
    this.config = config;
    this.region = region;
    this.pool = pool;
    this.meters = meters;
    this.clock = clock;
  }

  /**
   * Marks what the peer adopted; answers every ADOPTED id of this log with its adopter. Fails only if this log fails.
   *
   * @param published this region's log is published to its peer (else no peer holds a replica to adopt from)
   */
  public Future<Map<String, String>> reconcile(boolean published) {
    Optional<String> peer = published && config.replication().enabled()
        ? config.replication().peerOf(region).filter(config.regions()::containsKey) : Optional.empty();
    Future<Void> marked = peer.isEmpty() ? Future.succeededFuture()
        : adoptedByPeer(peer.get(), clock.millis() + config.replication().reconcileTimeoutMs())
            .compose(ids -> mark(ids, peer.get()))
            .recover(err -> {
              String message = "cannot learn from " + peer.get() + " what it adopted (" + err.getMessage()
                  + "); starting without reconciling";
              LOG.error("region {}: {}", region, message);
              meters.counter("genmesh.failover.failback.unreconciled", "region", region).increment();
              vertx.eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", "failback_unreconciled")
                  .put("region", region).put("peer", peer.get()).put("message", message));
              return Future.succeededFuture();
            });
    return marked.compose(v -> pool.query("SELECT id, adopted_by FROM requests WHERE status = 'ADOPTED'").execute())
        .map(rows -> {
          Map<String, String> adopted = new HashMap<>();
          for (Row row : rows) {
            adopted.put(row.getString("id"), row.getString("adopted_by"));
          }
          return adopted;
        });
  }

  /**
   * Asks {@code peer}'s database once which requests it adopted from this region, and marks them
   * ADOPTED here (held results: docs/architecture.md, "Held results"). Answers their ids; fails if
   * the peer's database does not answer now.
   */
  public Future<java.util.Set<String>> settle(String peer) {
    return adoptedByPeer(peer, clock.millis()).compose(ids -> mark(ids, peer).map(v -> java.util.Set.copyOf(ids)));
  }

  private Future<List<String>> adoptedByPeer(String peer, long deadline) {
    Pool remote = PostgresPool.create(vertx, config.region(peer), 1, RegionSchemas.schemaOf(peer), null);
    Promise<List<String>> done = Promise.promise();
    attempt(remote, peer, deadline, done);
    return done.future().eventually(remote::close);
  }

  private void attempt(Pool remote, String peer, long deadline, Promise<List<String>> done) {
    remote.preparedQuery("SELECT request_id FROM adoptions WHERE from_region = $1").execute(Tuple.of(region))
        .onSuccess(rows -> {
          List<String> ids = new ArrayList<>();
          rows.forEach(row -> ids.add(row.getString(0)));
          done.complete(ids);
        })
        .onFailure(err -> {
          // A peer database that has no adoptions table yet has adopted nothing.
          if (String.valueOf(err.getMessage()).contains("does not exist")) {
            done.complete(List.of());
          } else if (clock.millis() + RETRY_MS > deadline) {
            done.fail(err);
          } else {
            vertx.setTimer(RETRY_MS, id -> attempt(remote, peer, deadline, done));
          }
        });
  }

  private Future<Void> mark(List<String> ids, String peer) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    String sql = "WITH upd AS (UPDATE requests SET status = 'ADOPTED', adopted_by = $2,"
        + " completed_at = coalesce(completed_at, now()), updated_at = now(), last_event_seq = last_event_seq + 1"
        + " WHERE id = ANY($1) AND status <> 'ADOPTED' RETURNING id, last_event_seq)"
        + " INSERT INTO request_events (request_id, seq, type, data)"
        + " SELECT id, last_event_seq, 'region_failover', jsonb_build_object('from', $3::text, 'to', $2::text,"
        + "   'reason', 'adopted by ' || $2::text || ' while ' || $3::text || ' was down', 'moved', true) FROM upd"
        + " RETURNING request_id, seq, data, created_at";
    return pool.preparedQuery(sql).execute(Tuple.of(ids.toArray(new String[0]), peer, region)).map(rows -> {
      for (Row row : rows) {
        Object data = row.getValue("data");
        publish.accept(new dev.genmesh.protocol.ProgressEvent(row.getString("request_id"), row.getLong("seq"),
            dev.genmesh.protocol.EventType.REGION_FAILOVER, row.getOffsetDateTime("created_at").toInstant(),
            data instanceof JsonObject json ? json : new JsonObject(String.valueOf(data))));
      }
      if (rows.size() > 0) {
        LOG.info("region {}: fail-back: {} requests adopted by {} while this region was down are marked adopted here"
            + " (never run again here; {} answers for them)", region, rows.size(), peer, peer);
        meters.counter("genmesh.failover.failback.marked", "region", region).increment(rows.size());
      }
      return null;
    });
  }
}
