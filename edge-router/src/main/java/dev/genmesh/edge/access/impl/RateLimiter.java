package dev.genmesh.edge.access.impl;

import dev.genmesh.config.UsersConfig.RateLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Response;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Submits per second per user and tier, counted atomically in Redis by one script (GCRA, the
 * generic cell rate algorithm: a token bucket kept as one timestamp per bucket), on Redis' own
 * clock, so that every edge sharing the Redis counts the same submits and no edge's clock matters.
 * When Redis does not answer, submits pass (logged and counted): the limiter protects capacity,
 * it is not what keeps anyone out.
 */
public final class RateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);
  public static final String FAILURES = "genmesh.edge.ratelimit.failures";
  public static final String LIMITED = "genmesh.edge.ratelimit.limited";

  /**
   * KEYS[1] the bucket; ARGV[1] the emission interval in µs (1 / rate), ARGV[2] the burst. The
   * bucket holds its theoretical arrival time (TAT). Answers {allowed, remaining, retry after ms,
   * ms until the bucket is full again}.
   */
  static final String GCRA = """
      redis.replicate_commands()
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local interval = tonumber(ARGV[1])
      local burst = tonumber(ARGV[2])
      local tat = tonumber(redis.call('GET', KEYS[1]) or now)
      if tat < now then tat = now end
      local new_tat = tat + interval
      local allow_at = new_tat - burst * interval
      if now < allow_at then
        return {0, 0, math.ceil((allow_at - now) / 1000), math.ceil((tat - now) / 1000)}
      end
      redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
      return {1, math.floor((now + burst * interval - new_tat) / interval), 0, math.ceil((new_tat - now) / 1000)}
      """;

  /** The outcome for one submit; {@code limit} 0 means the tier has no limit. */
  public record Decision(boolean allowed, long limit, long remaining, long retryAfterMs, long resetMs) {
    static final Decision UNLIMITED = new Decision(true, 0, 0, 0, 0);

    public long retryAfterSeconds() {
      return Math.max(1, (retryAfterMs + 999) / 1000);
    }

    public long resetSeconds() {
      return (resetMs + 999) / 1000;
    }

    /** The RateLimit-* headers (IETF httpapi draft) and, when refused, Retry-After. */
    public void putHeaders(HttpServerResponse response) {
      if (limit == 0 || response.headWritten()) {
        return;
      }
      response.putHeader("RateLimit-Limit", Long.toString(limit))
          .putHeader("RateLimit-Remaining", Long.toString(remaining))
          .putHeader("RateLimit-Reset", Long.toString(resetSeconds()));
      if (!allowed) {
        response.putHeader("Retry-After", Long.toString(retryAfterSeconds()));
      }
    }
  }

  private final RateLimits limits;
  private final RedisAPI redis;
  private final Counter failures;
  private final MeterRegistry meters;

  public RateLimiter(Vertx vertx, RateLimits limits, MeterRegistry meters) {
    this.limits = limits;
    this.meters = meters;
    this.redis = limits.enabled()
        ? RedisAPI.api(Redis.createClient(vertx, new RedisOptions().setConnectionString(limits.redisUrl())
            .setMaxPoolSize(8).setMaxPoolWaiting(1024)))
        : null;
    this.failures = Counter.builder(FAILURES).description("Rate limit checks Redis did not answer (the submit passed)")
        .register(meters);
  }

  /** Takes one submit from {@code user}'s bucket of {@code tier}. Never fails. */
  public Future<Decision> take(String user, String tier) {
    Double perSecond = limits.perSecond().get(tier);
    if (redis == null || perSecond == null) {
      return Future.succeededFuture(Decision.UNLIMITED);
    }
    long burst = limits.burst().get(tier);
    long intervalMicros = Math.max(1, Math.round(1_000_000 / perSecond));
    String key = limits.keyPrefix() + tier + ":" + user;
    return redis.eval(List.of(GCRA, "1", key, Long.toString(intervalMicros), Long.toString(burst)))
        .map(answer -> decision(answer, burst))
        .onSuccess(decision -> {
          if (!decision.allowed()) {
            Counter.builder(LIMITED).description("Submits refused 429 by the rate limiter").tag("tier", tier)
                .register(meters).increment();
          }
        })
        .recover(failed -> {
          failures.increment();
          LOG.warn("rate limit of {} ({}) not checked, Redis does not answer ({}); the submit passes", user, tier,
              failed.toString());
          return Future.succeededFuture(Decision.UNLIMITED);
        });
  }

  private static Decision decision(Response answer, long burst) {
    return new Decision(answer.get(0).toInteger() == 1, burst, answer.get(1).toLong(), answer.get(2).toLong(),
        answer.get(3).toLong());
  }
}
