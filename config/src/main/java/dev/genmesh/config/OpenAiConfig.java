package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.Map;
import java.util.Set;

/**
 * The OpenAI Images API shape at the edge ({@code edge.openai}; edge-router/API.md, "OpenAI
 * Images API"): {@code POST /v1/images/generations} submits, waits and answers the images.
 *
 * @param enabled false: the route answers 404 like any unknown one
 * @param timeoutMs how long one call waits for its generation before answering 504 (and cancelling it)
 * @param pollIntervalMs how often a waiting call reads its generation's status
 * @param defaultTier the tier when the call names none (header {@code X-Genmesh-Tier}) and the key may use it
 * @param urlTtlSeconds how long an answered {@code url} (a share link) works
 * @param models OpenAI model name → genmesh model (a name of {@code models}); a genmesh model name is accepted as is
 */
public record OpenAiConfig(
    boolean enabled, long timeoutMs, long pollIntervalMs, String defaultTier, long urlTtlSeconds, Map<String, String> models) {
  private static final Set<String> TIERS = Set.of("turbo", "fast", "relax");

  /** The defaults of genmesh-defaults.yaml, for code that builds an edge config by hand. */
  public static final OpenAiConfig DEFAULTS = new OpenAiConfig(true, 120_000, 250, "fast", 3600,
      Map.of("dall-e-2", "genmesh-tiny", "dall-e-3", "genmesh-tiny", "gpt-image-1", "genmesh-tiny"));

  public OpenAiConfig withTimeoutMs(long newTimeoutMs) {
    return new OpenAiConfig(enabled, newTimeoutMs, pollIntervalMs, defaultTier, urlTtlSeconds, models);
  }

  static OpenAiConfig read(Node n) {
    OpenAiConfig config = new OpenAiConfig(
        n.bool("enabled", true),
        n.integer("timeout_ms", 1_000L, 3_600_000L),
        n.integer("poll_interval_ms", 10L, 60_000L),
        n.string("default_tier"),
        n.integer("url_ttl_s", 1L, 7L * 24 * 3600),
        Map.copyOf(n.texts("models")));
    n.finish();
    if (!TIERS.contains(config.defaultTier)) {
      throw new ConfigException(n.keyPath("default_tier"), "must be one of " + TIERS);
    }
    return config;
  }
}
