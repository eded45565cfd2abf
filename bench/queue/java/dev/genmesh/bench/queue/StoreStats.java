package dev.genmesh.bench.queue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Administration and counters of the shared stores: PostgreSQL durability switches, fresh
 * databases, commits and WAL flushes (pg_stat_database, pg_stat_wal), and Redis calls per
 * command (INFO commandstats, which counts the commands Lua scripts run as well).
 */
final class StoreStats implements AutoCloseable {
  private final Pool admin;
  private final Redis redis;

  StoreStats(Vertx vertx, int pgPort, int redisPort) {
    this.admin = pool(vertx, pgPort, "postgres", 1);
    this.redis = Redis.createClient(vertx, "redis://127.0.0.1:" + redisPort);
  }

  static Pool pool(Vertx vertx, int pgPort, String database, int size) {
    return pool(vertx, pgPort, database, size, false);
  }

  /** @param cacheStatements PgConnectOptions.cachePreparedStatements (the node sets it, since cd31bc5) */
  static Pool pool(Vertx vertx, int pgPort, String database, int size, boolean cacheStatements) {
    PgConnectOptions connect = new PgConnectOptions().setHost("127.0.0.1").setPort(pgPort)
        .setDatabase(database).setUser("postgres").setCachePreparedStatements(cacheStatements);
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(size)).connectingTo(connect).using(vertx).build();
  }

  /** Fails unless fsync, synchronous_commit and full_page_writes are all {@code on} (or all off). */
  void checkDurability(boolean on) throws Exception {
    String value = on ? "on" : "off";
    Row row = Blocking.await(admin.query("SELECT current_setting('fsync') AS f, current_setting('synchronous_commit') AS s,"
        + " current_setting('full_page_writes') AS w").execute()).iterator().next();
    if (!value.equals(row.getString("f")) || !value.equals(row.getString("s")) || !value.equals(row.getString("w"))) {
      throw new IllegalStateException("expected a PostgreSQL with fsync, synchronous_commit and full_page_writes "
          + value + ", got " + row.toJson());
    }
  }

  String createDatabase(String label) throws Exception {
    String name = "bench_" + label.replaceAll("[^a-z0-9]", "_") + "_" + UUID.randomUUID().toString().substring(0, 8);
    Blocking.await(admin.query("CREATE DATABASE " + name).execute());
    return name;
  }

  /** Counters now: {redis: {command: calls}, pg_commits (of database), wal_syncs, wal_records}. */
  JsonObject snapshot(String database) throws Exception {
    Thread.sleep(600); // PostgreSQL 14 ships table/database counters to the collector every 500 ms
    Row db = Blocking.await(admin.preparedQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = $1")
        .execute(Tuple.of(database))).iterator().next();
    Row wal = Blocking.await(admin.query("SELECT wal_sync, wal_records FROM pg_stat_wal").execute()).iterator().next();
    return new JsonObject()
        .put("redis", new JsonObject(new TreeMap<String, Object>(redisCalls())))
        .put("pg_commits", db.getLong("xact_commit"))
        .put("wal_syncs", wal.getLong("wal_sync"))
        .put("wal_records", wal.getLong("wal_records"));
  }

  /** Per-request counts between two snapshots. */
  static JsonObject perRequest(JsonObject before, JsonObject after, int requests) {
    JsonObject redisBefore = before.getJsonObject("redis");
    JsonObject perCommand = new JsonObject();
    double total = 0;
    double scripts = 0;
    for (String command : after.getJsonObject("redis").fieldNames()) {
      if (command.equals("info")) {
        continue; // our own probes
      }
      long calls = after.getJsonObject("redis").getLong(command) - redisBefore.getLong(command, 0L);
      if (calls > 0) {
        double each = round(calls / (double) requests);
        perCommand.put(command, each);
        total += each;
        if (command.equals("eval") || command.equals("evalsha")) {
          scripts += each;
        }
      }
    }
    JsonObject out = new JsonObject()
        .put("redis_cmds_per_req", round(total))
        .put("redis_scripts_per_req", round(scripts))
        .put("redis_by_command", perCommand);
    if (after.containsKey("pg_commits")) {
      out.put("pg_commits_per_req", round((after.getLong("pg_commits") - before.getLong("pg_commits")) / (double) requests))
          .put("wal_syncs_per_req", round((after.getLong("wal_syncs") - before.getLong("wal_syncs")) / (double) requests))
          .put("wal_records_per_req", round((after.getLong("wal_records") - before.getLong("wal_records")) / (double) requests));
    }
    return out;
  }

  private Map<String, Long> redisCalls() throws Exception {
    String info = Blocking.await(redis.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
    Map<String, Long> calls = new TreeMap<>();
    for (String line : info.split("\r?\n")) {
      // cmdstat_zadd:calls=5,usec=40,usec_per_call=8.00,rejected_calls=0,failed_calls=0
      if (line.startsWith("cmdstat_")) {
        String command = line.substring("cmdstat_".length(), line.indexOf(':'));
        String rest = line.substring(line.indexOf("calls=") + "calls=".length());
        calls.put(command, Long.parseLong(rest.substring(0, rest.indexOf(','))));
      }
    }
    return calls;
  }

  private static double round(double value) {
    return Math.round(value * 100.0) / 100.0;
  }

  @Override
  public void close() throws Exception {
    Blocking.await(redis.close());
    Blocking.await(admin.close());
  }
}
