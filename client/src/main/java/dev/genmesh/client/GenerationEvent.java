package dev.genmesh.client;

import io.vertx.core.json.JsonObject;
import java.util.Base64;
import java.util.List;

/**
 * One frame of a generation's event stream ({@code ProgressEvent} in openapi.yaml,
 * region-node/API.md "Event frames"), typed. {@link #id()} grows by one per event of a request;
 * {@link #json()} is the frame as sent. A type this client does not know arrives as {@link Other}.
 */
public sealed interface GenerationEvent {
  long id();

  String requestId();

  /** The event's type as sent ({@code queued}, {@code assigned}, {@code step}, ...). */
  String type();

  JsonObject json();

  /** Completed, failed or cancelled: the last event of the stream. */
  default boolean isTerminal() {
    return this instanceof Completed || this instanceof Failed || this instanceof Cancelled;
  }

  /** In a queue: at submit with its position and ETA (null when unknown), on a retry with the reason. */
  record Queued(long id, String requestId, Integer position, Long etaMs, int retryCount, String reason, JsonObject json)
      implements GenerationEvent {
    public String type() {
      return "queued";
    }
  }

  /** A worker took it (the {@code assigned} event): generation starts. */
  record Started(long id, String requestId, String worker, int attempt, JsonObject json) implements GenerationEvent {
    public String type() {
      return "assigned";
    }
  }

  /** Denoising step {@code step} of {@code total}; {@code preview} a small PNG when asked for ({@code preview_every}). */
  record Step(long id, String requestId, int step, int total, byte[] preview, JsonObject json) implements GenerationEvent {
    public String type() {
      return "step";
    }
  }

  /** The image waits for its safety check. */
  record SafetyPending(long id, String requestId, String reason, JsonObject json) implements GenerationEvent {
    public String type() {
      return "safety_pending";
    }
  }

  /** Its region was lost and a peer adopted it; position and ETA in the new region. */
  record RegionFailover(long id, String requestId, String from, String to, String reason, Integer position, Long etaMs,
      JsonObject json) implements GenerationEvent {
    public String type() {
      return "region_failover";
    }
  }

  /** Its model's circuit opened: it runs on {@code to} instead. */
  record Fallback(long id, String requestId, String from, String to, String reason, JsonObject json)
      implements GenerationEvent {
    public String type() {
      return "fallback";
    }
  }

  /** Done; {@code images} are public paths ({@code /v1/images/<id>/<i>.png}). */
  record Completed(long id, String requestId, List<String> images, JsonObject json) implements GenerationEvent {
    public String type() {
      return "completed";
    }
  }

  /** Failed for good: {@code code} is the last error ({@code safety_blocked}, {@code lease_lost}, a worker failure). */
  record Failed(long id, String requestId, String code, String message, JsonObject json) implements GenerationEvent {
    public String type() {
      return "failed";
    }
  }

  /** Cancelled; {@code previous} the status the cancel replaced. */
  record Cancelled(long id, String requestId, String previous, JsonObject json) implements GenerationEvent {
    public String type() {
      return "cancelled";
    }
  }

  /** A type newer than this client. */
  record Other(long id, String requestId, String type, JsonObject json) implements GenerationEvent {}

  /** The typed event of one frame (a {@code ProgressEvent} object). */
  static GenerationEvent parse(JsonObject f) {
    long id = f.getLong("id");
    String rid = f.getString("request_id");
    String type = f.getString("type", "");
    return switch (type) {
      case "queued" -> new Queued(id, rid, f.getInteger("queue_position", f.getInteger("position")), f.getLong("eta_ms"),
          f.getInteger("retry_count", 0), f.getString("reason"), f);
      case "assigned" -> new Started(id, rid, f.getString("worker"), f.getInteger("attempt", 1), f);
      case "step" -> new Step(id, rid, f.getInteger("step", 0), f.getInteger("total", 0),
          f.getString("preview") == null ? null : Base64.getDecoder().decode(f.getString("preview")), f);
      case "safety_pending" -> new SafetyPending(id, rid, f.getString("reason"), f);
      case "region_failover" -> new RegionFailover(id, rid, f.getString("from"), f.getString("to"), f.getString("reason"),
          f.getInteger("queue_position", f.getInteger("position")), f.getLong("eta_ms"), f);
      case "fallback" -> new Fallback(id, rid, f.getString("from"), f.getString("to"), f.getString("reason"), f);
      case "completed" -> new Completed(id, rid, f.getJsonArray("images").stream().map(String::valueOf).toList(), f);
      case "failed" -> new Failed(id, rid, f.getString("code"), f.getString("message"), f);
      case "cancelled" -> new Cancelled(id, rid, f.getString("previous"), f);
      default -> new Other(id, rid, type, f);
    };
  }
}
