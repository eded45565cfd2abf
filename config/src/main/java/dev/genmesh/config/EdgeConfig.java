package dev.genmesh.config;

import dev.genmesh.config.impl.Node;
import java.util.Map;

/**
 * The edge router: where it listens, what it accepts, and its measured latency to each
 * region (the region picker prefers the lowest healthy one).
 *
 * @param apiKeySha256 user id → SHA-256 (hex) of that user's API key; keys themselves never
 *     live in configuration
 * @param requireApiKey false: a call without a key is the user {@code anonymous}
 * @param limits read deadlines and per-client bounds ({@code edge.limits})
 * @param openai the OpenAI Images API shape ({@code edge.openai})
 * @param ops the operator console ({@code edge.ops})
 */
public record EdgeConfig(
    String host,
    int port,
    int maxBodyBytes,
    int maxPromptChars,
    long regionHealthIntervalMs,
    long regionTimeoutMs,
    Map<String, Long> latencyMs,
    boolean requireApiKey,
    Map<String, String> apiKeySha256,
    EdgeLimits limits,
    OpenAiConfig openai,
    Ops ops) {

  /**
   * The operator console ({@code /ops}, {@code /v1/admin/ops/...}): how often the edge samples every
   * region's state, and how much of that history it keeps for the console's charts.
   */
  public record Ops(long sampleIntervalMs, long historyMs) {
    public static final Ops DEFAULTS = new Ops(5_000, 3_600_000);

    static Ops read(Node n) {
      Ops ops = new Ops(n.integer("sample_interval_ms", 100L, 600_000L), n.integer("history_ms", 1_000L, 86_400_000L));
      n.finish();
      return ops;
    }
  }

  /** With the default operator console settings. */
  public EdgeConfig(String host, int port, int maxBodyBytes, int maxPromptChars, long regionHealthIntervalMs,
      long regionTimeoutMs, Map<String, Long> latencyMs, boolean requireApiKey, Map<String, String> apiKeySha256,
      EdgeLimits limits, OpenAiConfig openai) {
    this(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs, requireApiKey,
        apiKeySha256, limits, openai, Ops.DEFAULTS);
  }

  /** With the default OpenAI Images API settings. */
  public EdgeConfig(String host, int port, int maxBodyBytes, int maxPromptChars, long regionHealthIntervalMs,
      long regionTimeoutMs, Map<String, Long> latencyMs, boolean requireApiKey, Map<String, String> apiKeySha256,
      EdgeLimits limits) {
    this(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs, requireApiKey,
        apiKeySha256, limits, OpenAiConfig.DEFAULTS);
  }

  /** An edge with no API keys: every caller is the user {@code anonymous}. */
  public EdgeConfig(String host, int port, int maxBodyBytes, int maxPromptChars, long regionHealthIntervalMs,
      long regionTimeoutMs, Map<String, Long> latencyMs) {
    this(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs, false, Map.of());
  }

  /** With the default limits. */
  public EdgeConfig(String host, int port, int maxBodyBytes, int maxPromptChars, long regionHealthIntervalMs,
      long regionTimeoutMs, Map<String, Long> latencyMs, boolean requireApiKey, Map<String, String> apiKeySha256) {
    this(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs, requireApiKey,
        apiKeySha256, EdgeLimits.DEFAULTS);
  }

  public EdgeConfig withPort(int newPort) {
    return new EdgeConfig(host, newPort, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs,
        requireApiKey, apiKeySha256, limits, openai, ops);
  }

  public EdgeConfig withApiKeys(boolean required, Map<String, String> userToKeySha256) {
    return new EdgeConfig(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs,
        required, Map.copyOf(userToKeySha256), limits, openai, ops);
  }

  public EdgeConfig withLimits(EdgeLimits newLimits) {
    return new EdgeConfig(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs,
        requireApiKey, apiKeySha256, newLimits, openai, ops);
  }

  public EdgeConfig withOpenAi(OpenAiConfig newOpenAi) {
    return new EdgeConfig(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs,
        requireApiKey, apiKeySha256, limits, newOpenAi, ops);
  }

  public EdgeConfig withOps(Ops newOps) {
    return new EdgeConfig(host, port, maxBodyBytes, maxPromptChars, regionHealthIntervalMs, regionTimeoutMs, latencyMs,
        requireApiKey, apiKeySha256, limits, openai, newOps);
  }

  static EdgeConfig read(Node n) {
    EdgeConfig config = new EdgeConfig(
        n.string("host"),
        n.integer("port", 0, 65535),
        n.integer("max_body_bytes", 1024, 16 * 1024 * 1024),
        n.integer("max_prompt_chars", 1, 100_000),
        n.integer("region_health_interval_ms", 100L, 3_600_000L),
        n.integer("region_timeout_ms", 100L, 600_000L),
        Map.copyOf(n.integers("latency_ms", 0, 60_000)),
        n.bool("require_api_key", false),
        Map.copyOf(n.texts("api_keys")),
        EdgeLimits.read(n.child("limits")),
        n.has("openai") ? OpenAiConfig.read(n.child("openai")) : OpenAiConfig.DEFAULTS,
        n.has("ops") ? Ops.read(n.child("ops")) : Ops.DEFAULTS);
    n.finish();
    config.apiKeySha256.forEach((user, hash) -> {
      if (!hash.matches("[0-9a-f]{64}")) {
        throw new ConfigException(n.keyPath("api_keys." + user), "must be the SHA-256 of the key as 64 lowercase hex digits");
      }
    });
    return config;
  }
}
