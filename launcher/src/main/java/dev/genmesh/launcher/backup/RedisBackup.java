package dev.genmesh.launcher.backup;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * One copy of Redis's files (its RDB snapshot and append-only file), as its {@code backup.json}
 * describes it.
 *
 * @param files the names copied ({@code dump.rdb}, {@code appendonly.aof}; those that existed)
 */
public record RedisBackup(String id, Instant takenAt, List<String> files, long bytes) {
  JsonObject toJson() {
    return new JsonObject().put("id", id).put("taken_at", takenAt.toString())
        .put("files", new io.vertx.core.json.JsonArray(files)).put("bytes", bytes);
  }

  static RedisBackup fromJson(JsonObject json) {
    return new RedisBackup(json.getString("id"), Instant.parse(json.getString("taken_at")),
        json.getJsonArray("files").stream().map(Object::toString).toList(), json.getLong("bytes"));
  }
}
