package dev.genmesh.bench.queue;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One request's life as the bare store calls the region node makes for it (Submissions,
 * ClaimHandler, WorkerReports and RequestLog as of commit fed0bee), without HTTP, the event bus
 * or the node's code: the floor stays fixed while the node changes, and the node's own counts
 * (commandstats, commits) are in its row of the table.
 * <ul>
 *   <li>submit: ZCARD (queue position), INSERT row + queued event (one statement, commit), ZADD NX;</li>
 *   <li>claim: the claim script (ZRANGE, ZREM, SET NX PX inside; EVALSHA here, EVAL in the node),
 *       UPDATE to ASSIGNED + assigned event (commit);</li>
 *   <li>result: SELECT the row, write the PNG durably, UPDATE to COMPLETED + completed event
 *       (commit), DEL the lease.</li>
 * </ul>
 */
final class FloorOps {
  static final String CLAIM_SCRIPT = """
      local skip = {}
      for i = 4, #ARGV do skip[ARGV[i]] = true end
      local window = #ARGV - 3
      for k = 1, #KEYS do
        while true do
          local entries = redis.call('ZRANGE', KEYS[k], 0, window, 'WITHSCORES')
          local picked = nil
          for j = 1, #entries, 2 do
            if not skip[entries[j]] then picked = j; break end
          end
          if picked == nil then break end
          local id = entries[picked]
          redis.call('ZREM', KEYS[k], id)
          if redis.call('SET', ARGV[1] .. id, ARGV[2], 'NX', 'PX', ARGV[3]) then
            return {id, tostring(k), entries[picked + 1]}
          end
        end
      end
      return false
      """;
  static final String INSERT = "WITH ins AS ("
      + " INSERT INTO requests (id, idempotency_key, tier, model, spec, status, priority, attempt, retry_count,"
      + "   last_event_seq, created_at, queued_at, updated_at)"
      + " VALUES ($1, $2, $3, $4, $5::jsonb, 'QUEUED', 0, 0, 0, 1, now(), now(), now())"
      + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING *),"
      + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
      + "   SELECT id, 1, 'queued', $6::jsonb, created_at FROM ins"
      + "   RETURNING request_id, seq, type, data, created_at)"
      + " SELECT ins.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
      + " FROM ins JOIN ev ON ev.request_id = ins.id";
  static final String ASSIGN = transition(
      "UPDATE requests SET status = 'ASSIGNED', attempt = attempt + 1, worker_id = $2, assigned_at = now(),"
          + " started_at = NULL, updated_at = now(), last_event_seq = last_event_seq + 1"
          + " WHERE id = $1 AND status = 'QUEUED' AND model = ANY($3)",
      "assigned", "jsonb_build_object('worker', upd.worker_id, 'attempt', upd.attempt)");
  static final String FIND = "SELECT * FROM requests WHERE id = $1";
  static final String COMPLETE = transition(
      "UPDATE requests SET status = 'COMPLETED', image_count = $3, started_at = coalesce(started_at, assigned_at),"
          + " completed_at = now(), updated_at = now(), error_code = NULL, error_message = NULL,"
          + " last_event_seq = last_event_seq + 1"
          + " WHERE id = $1 AND attempt = $2 AND status IN ('ASSIGNED', 'GENERATING')",
      "completed", "$4::jsonb");
  static final long LEASE_MS = 30_000;
  static final String WORKER = "floor-worker";
  private static final String[] MODELS = {BenchSpec.MODEL};

  private FloorOps() {}

  /** The four Redis round trips alone: ZCARD, ZADD NX, EVALSHA claim, DEL lease. */
  static Future<?> redisOnly(Redis redis, String prefix, String claimSha, String id) {
    String queue = prefix + "queue:fast";
    return redis.send(Request.cmd(Command.ZCARD).arg(queue))
        .compose(depth -> redis.send(Request.cmd(Command.ZADD).arg(queue).arg("NX").arg(System.currentTimeMillis()).arg(id)))
        .compose(added -> claim(redis, prefix, claimSha))
        .compose(claimed -> redis.send(Request.cmd(Command.DEL).arg(prefix + "lease:" + claimed)));
  }

  /** The four PostgreSQL statements alone: INSERT, UPDATE (assign), SELECT, UPDATE (complete). */
  static Future<?> pgOnly(Pool pg, String id, int seq) {
    return insert(pg, id, seq, 0L)
        .compose(v -> assign(pg, id))
        .compose(attempt -> complete(pg, id, attempt));
  }

  /** Both stores in the node's order (no image write; that is its own floor). */
  static Future<?> stores(Pool pg, Redis redis, String prefix, String claimSha, String id, int seq) {
    String queue = prefix + "queue:fast";
    return redis.send(Request.cmd(Command.ZCARD).arg(queue))
        .compose(depth -> insert(pg, id, seq, depth.toLong()))
        .compose(v -> redis.send(Request.cmd(Command.ZADD).arg(queue).arg("NX").arg(System.currentTimeMillis()).arg(id)))
        .compose(added -> claim(redis, prefix, claimSha))
        .compose(claimed -> assign(pg, claimed)
            .compose(attempt -> complete(pg, claimed, attempt))
            .compose(v -> redis.send(Request.cmd(Command.DEL).arg(prefix + "lease:" + claimed))));
  }

  /** The durable image write alone, as ImageStore does it: temp file, fsync, rename, fsync of the folder. */
  static Future<?> image(WorkerExecutor io, Path root, String id, byte[] png) {
    return io.executeBlocking(() -> {
      Path dir = Files.createDirectories(root.resolve(id));
      Path temp = dir.resolve(".0.png.tmp");
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(png);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temp, dir.resolve("0.png"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
        folder.force(true);
      } catch (IOException e) {
        // as ImageStore: some file systems cannot fsync a folder
      }
      return null;
    }, false);
  }

  static String scriptSha(Redis redis) throws Exception {
    Response sha = Blocking.await(redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(CLAIM_SCRIPT)));
    return sha.toString();
  }

  /** Claims the head of the queues; answers the claimed id. */
  private static Future<String> claim(Redis redis, String prefix, String claimSha) {
    return redis.send(Request.cmd(Command.EVALSHA).arg(claimSha).arg(3)
            .arg(prefix + "queue:turbo").arg(prefix + "queue:fast").arg(prefix + "queue:relax")
            .arg(prefix + "lease:").arg(WORKER).arg(LEASE_MS))
        .map(popped -> {
          if (popped == null || popped.size() < 3) {
            throw new IllegalStateException("the claim found the queues empty");
          }
          return popped.get(0).toString();
        });
  }

  private static Future<Void> insert(Pool pg, String id, int seq, long position) {
    JsonObject spec = BenchSpec.json("floor", seq);
    return pg.preparedQuery(INSERT)
        .execute(Tuple.of(id, null, "fast", BenchSpec.MODEL, spec, new JsonObject().put("position", position)))
        .mapEmpty();
  }

  /** Answers the new attempt. */
  private static Future<Integer> assign(Pool pg, String id) {
    return pg.preparedQuery(ASSIGN).execute(Tuple.of(id, WORKER, MODELS)).map(rows -> {
      if (rows.size() == 0) {
        throw new IllegalStateException(id + " was not QUEUED");
      }
      return rows.iterator().next().getInteger("attempt");
    });
  }

  /** The node reads the row before it writes the images, then compare-and-sets on the attempt. */
  private static Future<Void> complete(Pool pg, String id, int attempt) {
    JsonArray images = new JsonArray().add("/v1/images/" + id + "/0.png");
    return pg.preparedQuery(FIND).execute(Tuple.of(id))
        .compose(row -> pg.preparedQuery(COMPLETE)
            .execute(Tuple.of(id, attempt, images.size(), new JsonObject().put("images", images))))
        .map(rows -> {
          if (rows.size() == 0) {
            throw new IllegalStateException(id + " attempt " + attempt + " was not running");
          }
          return null;
        });
  }

  private static String transition(String update, String eventType, String dataSql) {
    return "WITH upd AS (" + update + " RETURNING *),"
        + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
        + "   SELECT upd.id, upd.last_event_seq, '" + eventType + "', " + dataSql + ", now() FROM upd"
        + "   RETURNING request_id, seq, type, data, created_at)"
        + " SELECT upd.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
        + " FROM upd JOIN ev ON ev.request_id = upd.id";
  }
}
