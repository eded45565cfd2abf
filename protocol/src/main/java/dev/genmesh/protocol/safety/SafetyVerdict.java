package dev.genmesh.protocol.safety;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The answer of one safety check, as the region acts on it.
 *
 * @param reasons why it was blocked (for {@code ALLOW} the service may still list notes)
 * @param detail for {@code UNAVAILABLE}: why no answer came (connection refused, timeout,
 *     circuit open, bad answer); null otherwise
 */
public record SafetyVerdict(Outcome outcome, List<String> reasons, String detail) {

  /** allow and block are answers of the service; unavailable means there was none. */
  public enum Outcome { ALLOW, BLOCK, UNAVAILABLE }

  public SafetyVerdict {
    reasons = List.copyOf(reasons);
  }

  public static SafetyVerdict allow(List<String> notes) {
    return new SafetyVerdict(Outcome.ALLOW, notes, null);
  }

  public static SafetyVerdict block(List<String> reasons) {
    return new SafetyVerdict(Outcome.BLOCK, reasons, null);
  }

  public static SafetyVerdict unavailable(String detail) {
    return new SafetyVerdict(Outcome.UNAVAILABLE, List.of(), detail);
  }

  /** The wire name: {@code allow}, {@code block} or {@code unavailable}. */
  public String wireName() {
    return outcome.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The {@code {verdict, reasons}} body the Safety API answers. */
  public JsonObject toJson() {
    return new JsonObject().put("verdict", wireName()).put("reasons", new JsonArray(new ArrayList<>(reasons)));
  }
}
