package dev.genmesh.failover;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * One observer's opinion of one region: ok or suspect, since when (on the clock of whoever holds
 * the opinion) and why. On the wire it carries how long it has held ({@code for_ms}), not only its
 * {@code since}, so that a participant anchors it on its own clock ({@link #fromJson}): durations
 * survive clock skew between machines, instants do not.
 */
public record Opinion(String region, Verdict verdict, Instant since, String reason) {

  public enum Verdict {
    OK, SUSPECT;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public boolean suspect() {
    return verdict == Verdict.SUSPECT;
  }

  /** Held continuously for at least {@code span} at {@code now}. */
  public boolean heldFor(Duration span, Instant now) {
    return !since.plus(span).isAfter(now);
  }

  /** @param now the holder's clock, for {@code for_ms} */
  public JsonObject toJson(Instant now) {
    return new JsonObject().put("state", verdict.wireName()).put("since", since.toString())
        .put("for_ms", Math.max(0, Duration.between(since, now).toMillis())).put("reason", reason);
  }

  /**
   * An opinion another participant served, anchored on this participant's clock at the time the
   * answer arrived: the answer was made before that, so an opinion never looks older than it is
   * (a decision is never early), and at most one round trip younger (a decision that late).
   */
  public static Opinion fromJson(String region, JsonObject json, Instant receivedAt) {
    Verdict verdict = "suspect".equals(json.getString("state")) ? Verdict.SUSPECT : Verdict.OK;
    long forMs = Math.max(0, json.getLong("for_ms", 0L));
    return new Opinion(region, verdict, receivedAt.minusMillis(forMs), json.getString("reason", ""));
  }
}
