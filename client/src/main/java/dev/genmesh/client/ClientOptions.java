package dev.genmesh.client;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where the edge is, the caller's API key and how hard to try.
 *
 * @param url the edge's base URL ({@code http://localhost:8080}); a path prefix is kept
 * @param apiKey sent as {@code Authorization: Bearer KEY}; null sends none (the edge's anonymous user, where allowed)
 * @param maxAttempts calls per operation, the first included, before a retryable failure is given up
 * @param initialBackoff the wait before the second attempt when the edge names none ({@code Retry-After});
 *     doubled per attempt, with jitter
 * @param maxBackoff the longest wait between two attempts, a {@code Retry-After} included
 * @param requestTimeout one HTTP call's limit (connect and answer)
 * @param maxReconnects consecutive failed reconnects of an event stream before it fails (reset by any event)
 */
public record ClientOptions(URI url, String apiKey, int maxAttempts, Duration initialBackoff, Duration maxBackoff,
    Duration requestTimeout, int maxReconnects) {

  public static final String DEFAULT_URL = "http://localhost:8080";

  public ClientOptions {
    Objects.requireNonNull(url, "url");
    String scheme = url.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme) || url.getHost() == null) {
      throw new IllegalArgumentException("the edge URL must be http(s)://host[:port][/prefix], got " + url);
    }
    if (maxAttempts < 1 || maxReconnects < 0) {
      throw new IllegalArgumentException("maxAttempts must be at least 1 and maxReconnects at least 0");
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0 || requestTimeout.isNegative()
        || requestTimeout.isZero()) {
      throw new IllegalArgumentException("backoffs must be 0 <= initial <= max, and the request timeout positive");
    }
    if (apiKey != null && apiKey.isBlank()) {
      apiKey = null;
    }
  }

  /** 5 attempts, 250 ms doubling up to 10 s, 30 s per call, 10 reconnects. */
  public static ClientOptions of(String url, String apiKey) {
    return new ClientOptions(URI.create(url), apiKey, 5, Duration.ofMillis(250), Duration.ofSeconds(10),
        Duration.ofSeconds(30), 10);
  }

  public ClientOptions withRetries(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    return new ClientOptions(url, apiKey, maxAttempts, initialBackoff, maxBackoff, requestTimeout, maxReconnects);
  }

  public ClientOptions withRequestTimeout(Duration timeout) {
    return new ClientOptions(url, apiKey, maxAttempts, initialBackoff, maxBackoff, timeout, maxReconnects);
  }

  public ClientOptions withMaxReconnects(int reconnects) {
    return new ClientOptions(url, apiKey, maxAttempts, initialBackoff, maxBackoff, requestTimeout, reconnects);
  }

  @Override
  public String toString() {
    return "ClientOptions[url=" + url + ", apiKey=" + (apiKey == null ? "none" : "***") + ", maxAttempts=" + maxAttempts
        + ", initialBackoff=" + initialBackoff + ", maxBackoff=" + maxBackoff + ", requestTimeout=" + requestTimeout
        + ", maxReconnects=" + maxReconnects + "]";
  }
}
