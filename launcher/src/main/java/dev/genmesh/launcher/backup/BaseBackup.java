package dev.genmesh.launcher.backup;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One base backup of a PostgreSQL cluster, as its {@code backup.json} describes it.
 *
 * @param id the folder name, its start time ({@code 20261207T102000123Z})
 * @param startedAt when {@code pg_start_backup} returned
 * @param consistentAt a moment after {@code pg_stop_backup} returned: the earliest time this backup
 *     can be restored to
 * @param startWal the first WAL file the backup needs ({@code START WAL LOCATION} of its label)
 * @param stopLsn where the backup's WAL ends
 * @param bytes the size of its {@code base.zip}
 */
public record BaseBackup(String id, Instant startedAt, Instant consistentAt, String startWal, String stopLsn, long bytes) {
  static final String DESCRIPTION = "backup.json";
  static final String ARCHIVE = "base.zip";

  JsonObject toJson() {
    return new JsonObject().put("id", id).put("started_at", startedAt.toString())
        .put("consistent_at", consistentAt.toString()).put("start_wal", startWal).put("stop_lsn", stopLsn)
        .put("bytes", bytes);
  }

  static BaseBackup fromJson(JsonObject json) {
    return new BaseBackup(json.getString("id"), Instant.parse(json.getString("started_at")),
        Instant.parse(json.getString("consistent_at")), json.getString("start_wal"), json.getString("stop_lsn"),
        json.getLong("bytes"));
  }
}
