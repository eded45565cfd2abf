package dev.genmesh.protocol.failover;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * A failover decision about one region, taken by a quorum of observers (the edge and the other
 * regions' nodes) and published on {@link #ADDRESS} in every participant's own event bus (and
 * kept in the deciding participant's log). Replication adopts on {@link State#DOWN}, the edge
 * routes the region's ids to {@link #adopter}, DNS takes the region out of its answers; on
 * {@link State#UP} (after {@code failover.failback_after} of health) traffic returns to it.
 *
 * @param region the region the decision is about
 * @param state what the quorum decided
 * @param adopter the region that adopts its work while it is down (its replication peer), or null on UP
 * @param decidedAt when the quorum was reached
 * @param suspectedSince when the first observer of the agreeing majority began to suspect it (UP: when it answered again)
 * @param agreeing the observers that agreed
 * @param observers every observer that had a say
 * @param reason why, in words (for the event stream and the operator)
 */
public record RegionDecision(String region, State state, String adopter, Instant decidedAt, Instant suspectedSince,
    List<String> agreeing, List<String> observers, String reason) {

  /** The event-bus address decisions are published on, in every participant's own cluster. */
  public static final String ADDRESS = "genmesh.failover.decisions";

  public enum State { DOWN, UP }

  public RegionDecision {
    agreeing = List.copyOf(agreeing);
    observers = List.copyOf(observers);
  }

  /** Milliseconds from the first suspicion to the decision. */
  public long detectionMs() {
    return decidedAt.toEpochMilli() - suspectedSince.toEpochMilli();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("region", region).put("state", state.name().toLowerCase())
        .put("decided_at", decidedAt.toString()).put("suspected_since", suspectedSince.toString())
        .put("detection_ms", detectionMs())
        .put("agreeing", new JsonArray(agreeing)).put("observers", new JsonArray(observers)).put("reason", reason);
    if (adopter != null) {
      json.put("adopter", adopter);
    }
    return json;
  }

  public static RegionDecision fromJson(JsonObject json) {
    return new RegionDecision(json.getString("region"), State.valueOf(json.getString("state").toUpperCase()),
        json.getString("adopter"), Instant.parse(json.getString("decided_at")),
        Instant.parse(json.getString("suspected_since")), strings(json.getJsonArray("agreeing")),
        strings(json.getJsonArray("observers")), json.getString("reason", ""));
  }

  private static List<String> strings(JsonArray array) {
    return array == null ? List.of() : array.stream().map(String::valueOf).toList();
  }
}
