package dev.genmesh.region.failover;

import dev.genmesh.failover.FailoverParticipant;
import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.region.failover.impl.FailBack;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.requests.RequestLog;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.region.safety.ResultHold;
import dev.genmesh.region.safety.SafetyGate;
import dev.genmesh.images.ImageStore;
import dev.genmesh.replication.LogReplication;
import dev.genmesh.replication.ReplicationStatus;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results this region keeps unpublished while its peer may adopt the request without knowing of
 * the completion (docs/architecture.md, "Held results"): while the region is fenced, or while its
 * sync replication is degraded and the peer is not held DOWN. A held result is its row in
 * SAFETY_PENDING with the images' keys (or, for a verdict committed as the hold began, the row with
 * its event unpublished) plus a row of {@code held_results}. Every poll, once nothing holds, the
 * peer's database is asked which requests it adopted: those are marked ADOPTED and their images
 * deleted (discarded); the others are checked and completed as usual (released).
 */
public final class HeldResults implements ResultHold {
  private static final Logger LOG = LoggerFactory.getLogger(HeldResults.class);
  private static final int BATCH = 64;
  private static final long ASK_PEER_TIMEOUT_MS = 5000;

  private final RegionContext ctx;
  private final Pool pool;
  private final FailoverParticipant participant;
  private final LogReplication replication;
  private final FailBack failBack;
  private final Optional<String> peer;
  private final java.util.function.BiConsumer<Set<String>, String> adopted;
  private SafetyGate gate;
  private ImageStore images;
  private long timer = -1;
  private boolean releasing;
  private boolean peerSilent;

  /** @param adopted told the ids the peer adopted (marked ADOPTED here) and the peer, so they are answered with a 307 */
  public HeldResults(RegionContext ctx, Pool pool, FailoverParticipant participant, LogReplication replication,
      java.util.function.BiConsumer<Set<String>, String> adopted) {
    this.ctx = ctx;
    this.adopted = adopted;
    this.pool = pool;
    this.participant = participant;
    this.replication = replication;
    this.failBack = new FailBack(ctx.vertx(), ctx.config(), ctx.region(), pool, ctx.meters(), ctx.clock(), ctx.hub()::publish);
    this.peer = ctx.config().replication().enabled() ? ctx.config().replication().peerOf(ctx.region())
        .filter(ctx.config().regions()::containsKey) : Optional.empty();
  }

  /** Holds only with {@code failover.enabled}: without it nothing fences, and nothing says a dead peer is down. */
  @Override
  public String reason() {
    if (!ctx.config().failover().enabled()) {
      return null;
    }
    String fenced = participant.fenceReason();
    if (fenced != null) {
      return "region fenced: " + fenced;
    }
    ReplicationStatus status = replication.status();
    if (status.mode() == ReplicationStatus.Mode.DEGRADED && peer.isPresent()
        && participant.state(peer.get()) != RegionDecision.State.DOWN) {
      return "sync replication to " + peer.get() + " degraded: its replica may not hold this completion";
    }
    return null;
  }

  @Override
  public Future<Void> hold(RequestRow row, String reason, RequestLog.Change committed) {
    Long seq = committed == null ? null : committed.event().seq();
    return pool.preparedQuery("INSERT INTO held_results (request_id, attempt, reason, event_seq) VALUES ($1, $2, $3, $4)"
            + " ON CONFLICT (request_id) DO NOTHING")
        .execute(Tuple.of(row.id(), row.attempt(), reason, seq))
        .map(rows -> {
          if (rows.rowCount() > 0) {
            count("held");
            LOG.info("request {}: result of attempt {} held, not published ({}){}", row.id(), row.attempt(), reason,
                committed == null ? "" : "; its " + committed.row().status().wireName() + " is committed, its event waits");
          }
          return null;
        });
  }

  /** Starts the release passes, every {@code failover.poll_interval_ms}; {@code gate} checks what is released. */
  public void start(SafetyGate gate, ImageStore images) {
    this.gate = gate;
    this.images = images;
    gate.holdWith(this);
    if (ctx.config().failover().enabled()) {
      timer = ctx.vertx().setPeriodic(ctx.config().failover().pollIntervalMs(), id -> releasePass());
    }
  }

  public void stop() {
    if (timer != -1) {
      ctx.vertx().cancelTimer(timer);
      timer = -1;
    }
  }

  /** One pass: nothing if a hold applies, if nothing is held, or if the peer cannot say what it adopted. */
  void releasePass() {
    if (releasing || reason() != null) {
      return;
    }
    releasing = true;
    pool.preparedQuery("SELECT request_id, event_seq FROM held_results ORDER BY held_at LIMIT $1").execute(Tuple.of(BATCH))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture();
          }
          List<Row> held = new ArrayList<>();
          rows.forEach(held::add);
          return adoptedByPeer().compose(adopted -> {
            Future<Void> chain = Future.succeededFuture();
            for (Row row : held) {
              String id = row.getString("request_id");
              Long seq = row.getLong("event_seq");
              chain = chain.compose(v -> settle(id, seq, adopted.contains(id)));
            }
            return chain;
          });
        })
        .onFailure(err -> LOG.debug("region {}: held results not settled yet: {}", ctx.region(), err.toString()))
        .onComplete(ar -> releasing = false);
  }

  /** The ids the peer adopted (marked ADOPTED here); none to ask when there is no peer or the quorum holds it DOWN. */
  private Future<Set<String>> adoptedByPeer() {
    if (peer.isEmpty() || replication.status().mode() == ReplicationStatus.Mode.OFF
        || participant.state(peer.get()) == RegionDecision.State.DOWN) {
      return Future.succeededFuture(Set.of());
    }
    return failBack.settle(peer.get()).timeout(ASK_PEER_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .onSuccess(ids -> {
          peerSilent = false;
          adopted.accept(ids, peer.get());
        })
        .onFailure(err -> {
          if (!peerSilent) {
            peerSilent = true;
            ctx.metrics().systemError("held_results_peer");
            LOG.warn("region {}: cannot ask {} what it adopted ({}); held results stay held", ctx.region(), peer.get(),
                err.toString());
          }
        });
  }

  /** Takes the held row (only one node does), then discards or releases the result. */
  private Future<Void> settle(String id, Long seq, boolean adopted) {
    return pool.preparedQuery("DELETE FROM held_results WHERE request_id = $1").execute(Tuple.of(id))
        .compose(deleted -> deleted.rowCount() == 0 ? Future.succeededFuture()
            : ctx.log().find(id).compose(found -> found.map(row -> settle(row, seq, adopted))
                .orElse(Future.succeededFuture())));
  }

  private Future<Void> settle(RequestRow row, Long seq, boolean adopted) {
    String id = row.id();
    if (adopted || row.status() == RequestStatus.ADOPTED) {
      count("discarded");
      LOG.info("request {}: held result of attempt {} discarded: {} adopted it and answers for it", id, row.attempt(),
          peer.orElse("the peer"));
      List<String> keys = row.images() == null ? List.of() : row.images().stream().map(StoredImage::key).toList();
      // A verdict committed as the hold began left a completed event nobody was shown: the region
      // disowns that result, so its log must not say it completed here (the adopter's is the one).
      Future<Void> unsaid = seq == null ? Future.succeededFuture()
          : pool.preparedQuery("DELETE FROM request_events WHERE request_id = $1 AND seq >= $2 AND type = 'completed'")
              .execute(Tuple.of(id, seq)).mapEmpty();
      return unsaid.compose(v -> keys.isEmpty() ? Future.succeededFuture() : images.delete(keys).recover(err -> {
        LOG.warn("request {}: images of a discarded result not deleted (the image sweeper will): {}", id, err.toString());
        return Future.succeededFuture();
      }));
    }
    if (seq != null) {
      count("released");
      LOG.info("request {}: held {} released: its event is published", id, row.status().wireName());
      return ctx.log().eventsAfter(id, seq - 1).map(events -> {
        events.forEach(ctx.hub()::publish);
        return null;
      });
    }
    if (row.status() != RequestStatus.SAFETY_PENDING || row.attempt() <= 0) {
      return Future.succeededFuture(); // cancelled meanwhile: nothing to release
    }
    count("released");
    LOG.info("request {}: held result of attempt {} released: {} did not adopt it; its safety check runs", id,
        row.attempt(), peer.orElse("no peer"));
    return gate.check(row).mapEmpty();
  }

  private void count(String outcome) {
    ctx.meters().counter("genmesh.failover.results", "region", ctx.region(), "outcome", outcome).increment();
  }
}
