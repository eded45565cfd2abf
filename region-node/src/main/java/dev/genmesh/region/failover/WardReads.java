package dev.genmesh.region.failover;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.EventType;
import dev.genmesh.protocol.ProgressEvent;
import dev.genmesh.protocol.RequestIds;
import dev.genmesh.region.requests.ReplicaReads;
import dev.genmesh.region.requests.RequestRow;
import dev.genmesh.replication.LogReplication;
import dev.genmesh.replication.RegionSchemas;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link ReplicaReads} from the ward's replica (schema {@code RegionSchemas.schemaOf(ward)} of this
 * region's database): only ids of the ward's code that ended there. An ended request is final, so
 * the replica's copy is the ward's answer whether the ward is held down or not; open ones are
 * adopted instead ({@link RegionFailover}), and ADOPTED ones are this region's own.
 */
final class WardReads implements ReplicaReads {
  private static final String ENDED = "('COMPLETED', 'FAILED', 'CANCELLED')";
  /** The replica's tables are not there (yet): no subscription was ever made. */
  private static final String UNDEFINED_TABLE = "42P01";

  private final Pool pool;
  private final GenmeshConfig config;
  private final LogReplication replication;

  WardReads(Pool pool, GenmeshConfig config, LogReplication replication) {
    this.pool = pool;
    this.config = config;
    this.replication = replication;
  }

  @Override
  public Future<Optional<Ended>> ended(String id) {
    Optional<String> ward = replication.ward().filter(name -> config.regions().containsKey(name)
        && RequestIds.regionCode(id).filter(config.region(name).code()::equals).isPresent());
    if (ward.isEmpty()) {
      return Future.succeededFuture(Optional.empty());
    }
    return pool.preparedQuery("SELECT * FROM " + RegionSchemas.schemaOf(ward.get()) + ".requests WHERE id = $1"
            + " AND status IN " + ENDED).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.<Ended>empty()
            : Optional.of(new Ended(ward.get(), RequestRow.from(rows.iterator().next()))))
        .recover(err -> missingTables(err) ? Future.succeededFuture(Optional.empty()) : Future.failedFuture(err));
  }

  @Override
  public Future<List<ProgressEvent>> eventsAfter(Ended ended, long afterSeq) {
    return pool.preparedQuery("SELECT seq, type, data, created_at FROM " + RegionSchemas.schemaOf(ended.ward())
            + ".request_events WHERE request_id = $1 AND seq > $2 ORDER BY seq")
        .execute(Tuple.of(ended.row().id(), afterSeq))
        .map(rows -> {
          List<ProgressEvent> events = new ArrayList<>(rows.size());
          rows.forEach(row -> {
            JsonObject data = row.getJsonObject("data");
            events.add(new ProgressEvent(ended.row().id(), row.getLong("seq"), EventType.fromWire(row.getString("type")),
                RequestRow.instant(row, "created_at"), data == null ? new JsonObject() : data));
          });
          return events;
        });
  }

  private static boolean missingTables(Throwable err) {
    return err instanceof PgException pg && UNDEFINED_TABLE.equals(pg.getSqlState());
  }
}
