package dev.genmesh.bench.queue;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.region.scheduler.Routing;
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
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request's life as the bare store calls the region node makes for it (RegionalApi,
 * Submissions, ClaimHandler, WorkerReports, RequestLog and TierQueue as of commit cd31bc5), in the
 * node's order, without HTTP, the event bus or the node's request handling.
 * <ul>
 *   <li>submit: the position script ({@code TierQueue.predict}), the INSERT of the row and its
 *       {@code queued} event carrying that position (one statement, commit), the enqueue script;
 *       the node answers 202 after these three;</li>
 *   <li>claim: the claim script (promote, depths, relax credit, fair pick, lease, dispatch stream),
 *       the UPDATE to ASSIGNED with its event (commit);</li>
 *   <li>result: the SELECT of the row, (the node writes the PNG here: that is the image floor), the
 *       UPDATE to COMPLETED with its event (commit); the node then replies and sends the DEL of the
 *       lease without waiting for it, and so does the floor.</li>
 * </ul>
 * The Lua is not copied: the scripts are read from region-node's resources on the classpath and
 * joined as {@code LuaScript.load} joins them ({@code common.lua}, a newline, the script), so they
 * have the node's SHA-1 and run by EVALSHA with the node's arguments. The SQL is RequestLog's,
 * copied (RequestLog builds it inline); the pool caches prepared statements as the node's does.
 * What the request carries (the routing meta, the worker's claim) comes from the defaults config
 * through the node's {@link Routing}, as in the genmesh run.
 */
final class FloorOps {
  static final String INSERT = "WITH ins AS ("
      + " INSERT INTO requests (id, idempotency_key, tier, model, spec, status, priority, attempt, retry_count,"
      + "   last_event_seq, created_at, queued_at, updated_at, user_id)"
      + " VALUES ($1, $2, $3, $4, $5::jsonb, 'QUEUED', 0, 0, 0, 1, now(), now(), now(), $7)"
      + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING *),"
      + " ev AS (INSERT INTO request_events (request_id, seq, type, data, created_at)"
      + "   SELECT id, 1, 'queued', $6::jsonb, created_at FROM ins"
      + "   RETURNING request_id, seq, type, data, created_at)"
      + " SELECT ins.*, ev.seq AS ev_seq, ev.type AS ev_type, ev.data AS ev_data, ev.created_at AS ev_time"
      + " FROM ins JOIN ev ON ev.request_id = ins.id";
  /** RequestLog.assign with a non-empty model list (the model filter is $4). */
  static final String ASSIGN = transition(
      "UPDATE requests SET status = 'ASSIGNED', attempt = attempt + 1, worker_id = $2, assigned_at = now(),"
          + " started_at = NULL, not_before = NULL, assigned_vram_mb = $3::bigint, updated_at = now(),"
          + " last_event_seq = last_event_seq + 1"
          + " WHERE id = $1 AND status = 'QUEUED' AND model = ANY($4)",
      "assigned", "jsonb_build_object('worker', upd.worker_id, 'attempt', upd.attempt)");
  static final String FIND = "SELECT * FROM requests WHERE id = $1";
  static final String COMPLETE = transition(
      "UPDATE requests SET status = 'COMPLETED', image_count = $3, started_at = coalesce(started_at, assigned_at),"
          + " completed_at = now(), updated_at = now(), error_code = NULL, error_message = NULL,"
          + " last_event_seq = last_event_seq + 1"
          + " WHERE id = $1 AND attempt = $2 AND status IN ('ASSIGNED', 'GENERATING')",
      "completed", "$4::jsonb");

  /** TierQueue's constants. */
  private static final int CLAIM_WINDOW = 64;
  private static final int DISPATCH_LOG_LENGTH = 10_000;
  /** What the bench's HTTP submitters send: no user (RequestRow.ANONYMOUS), no idempotency key, priority 0. */
  private static final String USER = "anonymous";
  private static final String TIER = "fast";
  private static final String WORKER = "floor-worker";
  /** What VirtualWorkers claim with (as InferenceVerticle with the defaults config). */
  private static final String GPU_CLASS = "cpu";
  private static final long FREE_VRAM_MB = 8192;
  private static final String[] MODELS = {BenchSpec.MODEL};

  private static final AtomicInteger FAILED_DELETES = new AtomicInteger();

  private final Redis redis;
  private final Pool pg;
  private final String prefix;
  private final Scripts scripts;
  private final String meta;
  private final String workerJson;
  private final long leaseMs;
  private final long relaxSharePpm;
  private final long routingHoldMs;

  FloorOps(Redis redis, Pool pg, String prefix, Scripts scripts, GenmeshConfig config) {
    this.redis = redis;
    this.pg = pg;
    this.prefix = prefix;
    this.scripts = scripts;
    this.leaseMs = config.queue().leaseMs();
    this.relaxSharePpm = Math.round(config.queue().relaxShare() * 1_000_000);
    this.routingHoldMs = config.queue().routingHoldMs();
    // QueueEntry.metaJson of a fresh QUEUED row, and ClaimHandler.workerJson of a VirtualWorkers claim.
    Routing routing = new Routing(config);
    GenerationSpec spec = BenchSpec.spec("floor", 0);
    JsonObject m = new JsonObject().put("t", TIER).put("u", USER).put("p", 0).put("m", BenchSpec.MODEL);
    String requestClass = routing.requestClass(spec);
    if (requestClass != null) {
      m.put("c", requestClass);
    }
    if (routing.vramEstimateMb(spec) > 0) {
      m.put("v", routing.vramEstimateMb(spec));
    }
    this.meta = m.encode();
    JsonObject worker = new JsonObject().put("w", WORKER).put("vram", FREE_VRAM_MB)
        .put("models", new JsonArray(List.of(MODELS))).put("pref", new JsonArray(List.of(MODELS)))
        .put("skip", new JsonArray());
    routing.classesFor(GPU_CLASS).ifPresent(classes -> worker.put("classes", new JsonArray(List.copyOf(classes))));
    this.workerJson = worker.encode();
  }

  /** Lease DELs that failed (the floor does not wait for them, as the node does not). */
  static int failedDeletes() {
    return FAILED_DELETES.get();
  }

  /** The Redis calls alone: position script, enqueue script, claim script, DEL of the lease. */
  Future<?> redisOnly(String id) {
    return position()
        .compose(position -> enqueue(id))
        .compose(v -> claim())
        .map(claimed -> {
          deleteLease(claimed);
          return null;
        });
  }

  /** The PostgreSQL statements alone: INSERT, UPDATE (assign), SELECT, UPDATE (complete). */
  Future<?> pgOnly(String id, int seq) {
    return insert(id, seq, 0L)
        .compose(v -> assign(id))
        .compose(attempt -> complete(id, attempt));
  }

  /** Both stores in the node's order (no image write; that is its own floor). */
  Future<?> stores(String id, int seq) {
    return position()
        .compose(position -> insert(id, seq, position))
        .compose(v -> enqueue(id))
        .compose(v -> claim())
        .compose(claimed -> assign(claimed)
            .compose(attempt -> complete(claimed, attempt))
            .map(v -> {
              deleteLease(claimed);
              return null;
            }));
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

  /** TierQueue.predict + EtaEstimator.position for the fast tier: the queued event's position. */
  private Future<Long> position() {
    return scripts.position.run(redis, prefix, TIER, "", USER, "0")
        .map(place -> place.get(0).toLong() + place.get(2).toLong()); // rank + turbo depth
  }

  private Future<Void> enqueue(String id) {
    return scripts.enqueue.run(redis, prefix, Long.toString(System.currentTimeMillis()), id, "0", meta).mapEmpty();
  }

  /** The claim script as ClaimHandler runs it; answers the claimed id. */
  private Future<String> claim() {
    return scripts.claim.run(redis, prefix, Long.toString(System.currentTimeMillis()), workerJson,
            Long.toString(leaseMs), Long.toString(relaxSharePpm), Long.toString(routingHoldMs),
            Integer.toString(CLAIM_WINDOW), Integer.toString(DISPATCH_LOG_LENGTH))
        .map(popped -> {
          String id = popped.get(0).toString();
          if (id.isEmpty()) {
            throw new IllegalStateException("the claim found the queues empty");
          }
          return id;
        });
  }

  /** WorkerReports.finished: the node replies without waiting for this DEL. */
  private void deleteLease(String id) {
    redis.send(Request.cmd(Command.DEL).arg(prefix + "lease:" + id)).onFailure(err -> {
      if (FAILED_DELETES.incrementAndGet() <= 5) {
        System.err.println("lease DEL of " + id + " failed: " + err);
      }
    });
  }

  private Future<Void> insert(String id, int seq, long position) {
    JsonObject spec = BenchSpec.json("floor", seq);
    JsonObject queued = new JsonObject().put("position", position).put("queue_position", position).put("eta_ms", null);
    return pg.preparedQuery(INSERT)
        .execute(Tuple.of(id, null, TIER, BenchSpec.MODEL, spec, queued, USER))
        .map(rows -> {
          if (rows.size() == 0) {
            throw new IllegalStateException(id + " was not inserted");
          }
          return null;
        });
  }

  /** Answers the new attempt. */
  private Future<Integer> assign(String id) {
    Tuple params = Tuple.of(id, WORKER, FREE_VRAM_MB);
    params.addArrayOfString(MODELS);
    return pg.preparedQuery(ASSIGN).execute(params).map(rows -> {
      if (rows.size() == 0) {
        throw new IllegalStateException(id + " was not QUEUED");
      }
      return rows.iterator().next().getInteger("attempt");
    });
  }

  /** WorkerReports.completeIfCurrent: reads the row (before the images are written), then compare-and-sets. */
  private Future<Void> complete(String id, int attempt) {
    JsonArray images = new JsonArray().add("/v1/images/" + id + "/0.png");
    return pg.preparedQuery(FIND).execute(Tuple.of(id))
        .compose(row -> {
          if (row.size() == 0 || row.iterator().next().getInteger("attempt") != attempt) {
            return Future.failedFuture(new IllegalStateException(id + " attempt " + attempt + " is not current"));
          }
          return pg.preparedQuery(COMPLETE)
              .execute(Tuple.of(id, attempt, images.size(), new JsonObject().put("images", images)));
        })
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

  /** The node's scripts of one request's life, read from region-node's resources. */
  static final class Scripts {
    final Script position = Script.load("position");
    final Script enqueue = Script.load("enqueue");
    final Script claim = Script.load("claim");

    /** SCRIPT LOAD of each, so every call is an EVALSHA (the node's steady state; it EVALs once on NOSCRIPT). */
    void loadInto(Redis redis) throws Exception {
      for (Script script : List.of(position, enqueue, claim)) {
        String sha = Blocking.await(redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(script.source))).toString();
        if (!sha.equals(script.sha)) {
          throw new IllegalStateException("Redis hashed " + script.name + " to " + sha + ", expected " + script.sha);
        }
      }
    }
  }

  /** One script as LuaScript.load builds it: common.lua, a newline, the script; no KEYS, the prefix in ARGV[1]. */
  record Script(String name, String source, String sha) {
    private static final String FOLDER = "dev/genmesh/region/lua/";

    static Script load(String name) {
      String source = read("common.lua") + "\n" + read(name + ".lua");
      try {
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
            .digest(source.getBytes(StandardCharsets.UTF_8)));
        return new Script(name, source, sha);
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    Future<Response> run(Redis redis, String... args) {
      Request request = Request.cmd(Command.EVALSHA).arg(sha).arg(0);
      for (String arg : args) {
        request.arg(arg);
      }
      return redis.send(request);
    }

    private static String read(String file) {
      try (InputStream in = FloorOps.class.getClassLoader().getResourceAsStream(FOLDER + file)) {
        if (in == null) {
          throw new IllegalStateException("missing classpath resource " + FOLDER + file + " (is region-node compiled?)");
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + FOLDER + file, e);
      }
    }
  }
}
