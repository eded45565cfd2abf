package dev.genmesh.region.autoscale.impl;

import dev.genmesh.protocol.scaling.ScalingDecision;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The region's {@code scaling_decisions} table (migration V10): one row per decision, with its
 * reason, driver and numbers as columns and the whole record as JSON. Writing the same decision
 * twice (a re-delivery) is a no-op.
 */
public final class ScalingDecisionLog {
  private final Pool pool;

  public ScalingDecisionLog(Pool pool) {
    this.pool = pool;
  }

  public Future<Void> record(ScalingDecision decision) {
    String sql = "INSERT INTO scaling_decisions (decided_at, region, pool, from_count, to_count, reason, driver, signal,"
        + " value, threshold, held_ms, forecast_source, forecast_qps, record)"
        + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)"
        + " ON CONFLICT (region, pool, decided_at, reason) DO NOTHING";
    Tuple params = Tuple.tuple()
        .addOffsetDateTime(OffsetDateTime.ofInstant(decision.time(), ZoneOffset.UTC))
        .addString(decision.region())
        .addString(decision.pool())
        .addInteger(decision.from())
        .addInteger(decision.to())
        .addString(decision.reason())
        .addString(decision.driver())
        .addString(decision.signal())
        .addValue(finite(decision.value()))
        .addValue(finite(decision.threshold()))
        .addLong(decision.heldMs())
        .addString(decision.forecast() == null ? null : decision.forecast().source())
        .addValue(decision.forecast() == null ? null : finite(decision.forecast().regionQps()))
        .addValue(decision.toJson());
    return pool.preparedQuery(sql).execute(params).mapEmpty();
  }

  /** The region's decisions with {@code from <= decided_at < to}, oldest first. */
  public Future<List<ScalingDecision>> between(String region, Instant from, Instant to) {
    return pool.preparedQuery("SELECT record FROM scaling_decisions WHERE region = $1 AND decided_at >= $2"
            + " AND decided_at < $3 ORDER BY decided_at, id")
        .execute(Tuple.of(region, OffsetDateTime.ofInstant(from, ZoneOffset.UTC), OffsetDateTime.ofInstant(to, ZoneOffset.UTC)))
        .map(rows -> {
          List<ScalingDecision> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(ScalingDecision.fromJson((JsonObject) row.getValue("record")));
          }
          return out;
        });
  }

  private static Double finite(double value) {
    return Double.isFinite(value) ? value : null;
  }
}
