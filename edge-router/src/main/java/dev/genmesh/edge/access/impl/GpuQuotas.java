package dev.genmesh.edge.access.impl;

import dev.genmesh.config.UsersConfig.GpuQuota;
import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.edge.regions.impl.RegionDirectory;
import dev.genmesh.users.Generation;
import dev.genmesh.users.GpuUsage;
import dev.genmesh.users.UserStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU-seconds per user per calendar month (UTC) for fast and turbo (docs/security.md): the sum of
 * the GPU time regions report for the user's completed fast/turbo generations this month, kept in
 * the user database's generation index, so every edge counts the same. A generation the index does
 * not know the outcome of yet is asked of its region when the user next submits or asks for usage
 * (a few at a time), and its outcome recorded once. Past the quota, fast and turbo are refused; relax
 * is never refused, but a user past {@code relax_heavy_fraction} of the quota queues behind others.
 * When the user database cannot answer, submits pass (logged, counted): quotas protect capacity,
 * they are not what keeps anyone out.
 */
public final class GpuQuotas {
  private static final Logger LOG = LoggerFactory.getLogger(GpuQuotas.class);
  public static final String FAILURES = "genmesh.edge.gpuquota.failures";
  public static final String REFUSED = "genmesh.edge.gpuquota.refused";
  private static final Set<String> METERED = Set.of("fast", "turbo");
  /** Regions asked per check at most: the rest waits for the next one. */
  private static final int ASK_AT_MOST = 20;

  /** What one submit may do: refused, or allowed at a regional priority; the month's figures for the headers and body. */
  public record Admission(boolean allowed, int priority, long usedMs, long quotaSeconds, Instant resetsAt) {
    static final Admission UNMETERED = new Admission(true, 0, 0, 0, null);

    public boolean metered() {
      return quotaSeconds > 0;
    }

    public long usedSeconds() {
      return usedMs / 1000;
    }

    /** Whole seconds left, rounded down: 0.4 s used of 36000 leaves 35999, never more than is really left. */
    public long remainingSeconds() {
      return Math.max(0, (quotaSeconds * 1000 - usedMs) / 1000);
    }
  }

  private final UserStore users;
  private final GpuQuota config;
  private final RegionDirectory regions;
  private final Clock clock;
  private final Counter failures;
  private final Counter refused;

  /** @param users null without a user database: nothing is metered */
  GpuQuotas(UserStore users, GpuQuota config, RegionDirectory regions, MeterRegistry meters, Clock clock) {
    this.users = users;
    this.config = config;
    this.regions = regions;
    this.clock = clock;
    this.failures = Counter.builder(FAILURES).description("GPU quota checks the user database could not answer (passed)")
        .register(meters);
    this.refused = Counter.builder(REFUSED).description("fast/turbo submits refused: GPU quota of the month used")
        .register(meters);
  }

  /**
   * The month's figures as headers ({@code GPU-Quota-Limit}, {@code -Remaining} in seconds,
   * {@code -Reset} in seconds until the month ends); when refused, {@code Retry-After} too.
   */
  public void putHeaders(Admission admission, io.vertx.core.http.HttpServerResponse response) {
    if (!admission.metered() || response.headWritten()) {
      return;
    }
    long reset = Math.max(1, java.time.Duration.between(clock.instant(), admission.resetsAt()).toSeconds());
    response.putHeader("GPU-Quota-Limit", Long.toString(admission.quotaSeconds()))
        .putHeader("GPU-Quota-Remaining", Long.toString(admission.remainingSeconds()))
        .putHeader("GPU-Quota-Reset", Long.toString(reset));
    if (!admission.allowed()) {
      response.putHeader("Retry-After", Long.toString(reset));
    }
  }

  /** The 429 body of a refused fast/turbo submit: what was used, when it resets, and that relax still works. */
  public static JsonObject refusal(Admission admission, String tier) {
    return new JsonObject().put("code", "gpu_quota_exceeded")
        .put("message", "this month's " + admission.quotaSeconds() + " GPU-seconds for fast and turbo are used ("
            + admission.usedSeconds() + " s); relax still works, or wait until " + admission.resetsAt())
        .put("field", "tier").put("tier", tier)
        .put("used_gpu_seconds", admission.usedSeconds()).put("quota_gpu_seconds", admission.quotaSeconds())
        .put("resets_at", admission.resetsAt().toString()).put("relax_available", true);
  }

  /** May {@code user} submit to {@code tier} now, and at what priority. Never fails. */
  public Future<Admission> admit(String user, String tier) {
    return check(user, tier, true);
  }

  /** The month's figures for {@code GET /v1/usage} (as a fast submit would see them, not counted as one). */
  public Future<Admission> current(String user) {
    return check(user, "fast", false);
  }

  private Future<Admission> check(String user, String tier, boolean submitting) {
    if (users == null || !config.metered() || Caller.ANONYMOUS.equals(user)) {
      return Future.succeededFuture(Admission.UNMETERED);
    }
    return usage(user).map(usage -> {
      boolean over = usage.usedSeconds() >= usage.quotaSeconds() && usage.quotaSeconds() > 0;
      if (METERED.contains(tier)) {
        if (over && submitting) {
          refused.increment();
        }
        return new Admission(!over, 0, usage.usedMs(), usage.quotaSeconds(), usage.resetsAt());
      }
      boolean heavy = usage.quotaSeconds() > 0 && usage.usedMs() >= config.relaxHeavyFraction() * usage.quotaSeconds() * 1000;
      return new Admission(true, heavy ? config.relaxPriority() : 0, usage.usedMs(), usage.quotaSeconds(), usage.resetsAt());
    }).recover(failed -> {
      failures.increment();
      LOG.warn("GPU quota of {} not checked (submit passes): {}", user, failed.toString());
      return Future.succeededFuture(Admission.UNMETERED);
    });
  }

  double relaxHeavyFraction() {
    return config.relaxHeavyFraction();
  }

  /** The user's month so far (outcomes the index lacked asked of their regions first). */
  public Future<Admission> usage(String user) {
    YearMonth month = YearMonth.from(clock.instant().atOffset(ZoneOffset.UTC));
    Instant since = month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    Instant resetsAt = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    return users.gpuUsage(user, since)
        .compose(usage -> settle(usage.pending()).compose(learned -> learned ? users.gpuUsage(user, since)
            : Future.succeededFuture(usage)))
        .map(usage -> new Admission(true, 0, usage.usedMs(), quotaOf(usage), resetsAt));
  }

  private long quotaOf(GpuUsage usage) {
    return usage.quotaSeconds() != null ? usage.quotaSeconds() : config.secondsPerMonth();
  }

  /** Asks the regions about generations whose outcome the index lacks; true if any was recorded. */
  private Future<Boolean> settle(List<Generation> pending) {
    List<Future<Boolean>> asked = pending.stream().limit(ASK_AT_MOST).map(this::settle).toList();
    return Future.join(asked).otherwiseEmpty()
        .map(v -> asked.stream().anyMatch(f -> f.succeeded() && Boolean.TRUE.equals(f.result())));
  }

  private Future<Boolean> settle(Generation generation) {
    // The region serving the id now (its adopter while the quorum holds it down).
    RegionClient region = regions.forRequestId(generation.id()).orElse(null);
    if (region == null) {
      return Future.succeededFuture(false);
    }
    return region.view(generation.id()).compose(response -> {
      if (response.statusCode() != 200) {
        return Future.succeededFuture(false);
      }
      JsonObject view = response.bodyAsJsonObject();
      String status = view.getString("status", "");
      if (!Set.of("completed", "failed", "cancelled").contains(status)) {
        return Future.succeededFuture(false); // still running (or handed to an adopter): the next check asks again
      }
      Long gpuMs = null;
      if ("completed".equals(status)) {
        JsonObject timings = view.getJsonObject("timings", new JsonObject());
        gpuMs = timings.getLong("gpu_ms", timings.getLong("generation_ms", 0L)); // an older region: its wall time
      }
      return users.recordOutcome(generation.id(), status, gpuMs).map(true);
    }).otherwise(false);
  }
}
