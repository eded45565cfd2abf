package dev.genmesh.breakers;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * One state change of one breaker.
 *
 * @param name the model name, the worker id, or {@code global}
 * @param reason why, in words (for the log and the alert)
 */
public record BreakerTransition(BreakerKind kind, String name, BreakerState from, BreakerState to, Instant at,
    String reason) {

  public static final String ALERT_TYPE = "breaker";

  public BreakerTransition {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(at, "at");
  }

  /** The body published on {@code genmesh.alerts}. */
  public JsonObject toAlert(String region) {
    return new JsonObject()
        .put("type", ALERT_TYPE)
        .put("region", region)
        .put("kind", kind.wireName())
        .put("name", name)
        .put("from", from.wireName())
        .put("to", to.wireName())
        .put("at", at.toString())
        .put("reason", reason);
  }
}
