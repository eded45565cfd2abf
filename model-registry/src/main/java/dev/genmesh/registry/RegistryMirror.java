package dev.genmesh.registry;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.config.RegistryConfig;
import dev.genmesh.registry.impl.MirrorFailure;
import dev.genmesh.registry.impl.MirrorMetrics;
import dev.genmesh.registry.impl.PrimaryClient;
import dev.genmesh.registry.impl.VersionPull;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A non-primary region's registry following the primary's (inference-verticle/MODEL.md, "Across
 * regions"): every {@code registry.mirror_interval_ms}, and when a worker asks for a version this
 * region does not hold, it reads what the primary lists, pulls each version it lacks (manifest and
 * files into a staging folder, every SHA-256 checked, then renamed into the local registry), and
 * points each model's {@code CURRENT} where the primary's points once that version is held here.
 * Versions are immutable: one held is never fetched again. When the primary does not answer,
 * the region serves what it holds and {@code CURRENT} stays; the outage is logged once and each
 * failed step counted ({@code genmesh.registry.mirror.failures}).
 */
public final class RegistryMirror {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryMirror.class);
  /** How long a version the primary served corrupted is left alone before it is tried again. */
  static final Duration REFUSED_FOR = Duration.ofMinutes(10);

  /** What a request for a version this region does not hold gets. */
  public enum Availability {
    /** Pulled within {@code registry.pull_wait_ms}: serve it. */
    HELD,
    /** The primary does not have it either: 404. */
    NOT_ON_PRIMARY,
    /** The pull still runs: 503, retry shortly. */
    PULLING,
    /** The primary does not answer: 503, this region serves what it holds. */
    PRIMARY_AWAY,
    /** The primary's copy failed its checks: 503, not tried again for a while. */
    REFUSED,
    /** This region could not store it: 503. */
    FAILED
  }

  /**
   * @param region this region; {@code primary} the one it follows
   * @param pullWaitMs how long {@link #ensure} waits for the pull before it answers {@link Availability#PULLING}
   */
  public record Settings(String region, String primary, long intervalMs, long downloadTimeoutMs, long pullWaitMs) {
    public static Settings of(RegistryConfig config, String region) {
      return new Settings(region, config.primary(), config.mirrorIntervalMs(), config.downloadTimeoutMs(), config.pullWaitMs());
    }
  }

  private final Vertx vertx;
  private final ModelRegistry local;
  private final Settings settings;
  private final PrimaryClient primary;
  private final VersionPull puller;
  private final WorkerExecutor io;
  private final MirrorMetrics metrics;
  private final Clock clock;
  private final Map<String, Future<PublishedVersion>> pulls = new HashMap<>();
  private final Map<String, Instant> refused = new ConcurrentHashMap<>();
  private Future<Void> syncing;
  private volatile Instant awaySince;
  private volatile String lastProblem;
  private long timer = -1;
  private volatile boolean stopped;

  /** @param primaryUrl the primary's regional API, asked at each call (it may start after this region) */
  public RegistryMirror(Vertx vertx, ModelRegistry local, Settings settings, Supplier<String> primaryUrl, WorkerExecutor io,
      MeterRegistry meters, Clock clock) {
    this.vertx = vertx;
    this.local = local;
    this.settings = settings;
    this.primary = new PrimaryClient(vertx, primaryUrl, settings.downloadTimeoutMs());
    this.puller = new VersionPull(primary, local, io);
    this.io = io;
    this.metrics = new MirrorMetrics(meters, settings.region(), clock);
    this.clock = clock;
  }

  /**
   * The mirror of {@code region}'s registry, or null when the region takes publishes itself (it is
   * the primary, there is no primary, or the primary is not among the configured regions).
   *
   * @param primaryUrl null: the primary's {@code api_url} from the config
   */
  public static RegistryMirror forRegion(Vertx vertx, GenmeshConfig config, String region, ModelRegistry local,
      Supplier<String> primaryUrl, WorkerExecutor io, MeterRegistry meters) {
    RegistryConfig registry = config.registry();
    RegionConfig primary = config.regions().get(registry.primary());
    if (local == null || !registry.mirrors(region) || primary == null) {
      return null;
    }
    return new RegistryMirror(vertx, local, Settings.of(registry, region),
        primaryUrl != null ? primaryUrl : primary::effectiveApiUrl, io, meters, Clock.systemUTC());
  }

  /** Clears what an interrupted pull left, syncs now, then every interval. */
  public void start() {
    io.executeBlocking(() -> {
      local.discardStaged(VersionPull.STAGING_PREFIX, null);
      return heldCount();
    }).onSuccess(metrics::held).onFailure(this::report).onComplete(ignored -> {
      synchronized (this) {
        if (!stopped) {
          timer = vertx.setPeriodic(settings.intervalMs(), t -> sync());
          sync();
        }
      }
    });
    LOG.info("model registry of {} mirrors the primary registry {} ({}) every {} ms", settings.region(), settings.primary(),
        primary.baseUrl(), settings.intervalMs());
  }

  public synchronized Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    metrics.close();
    return primary.close();
  }

  /**
   * One round: the primary's listing, every version missing here, then {@code CURRENT}. Joins the
   * round that runs. Fails when the primary does not answer (already counted and logged).
   */
  public synchronized Future<Void> sync() {
    if (syncing != null) {
      return syncing;
    }
    Future<Void> round = primary.listing()
        .compose(listing -> pullMissing(listing).compose(v -> io.executeBlocking(() -> followCurrent(listing))))
        .onSuccess(held -> {
          metrics.synced(held);
          recovered();
        })
        .onFailure(err -> {
          if (!MirrorFailure.alreadyReported(err)) {
            report(err); // the listing, or this region's disk; a pull reports its own
          }
        })
        .mapEmpty();
    syncing = round;
    round.onComplete(ar -> {
      synchronized (this) {
        syncing = null;
      }
    });
    return round;
  }

  /**
   * Makes sure this region holds {@code name version}: starts (or joins) its pull and waits up to
   * {@code pull_wait_ms} for it.
   */
  public Future<Availability> ensure(String name, String version) {
    if (!BundleCheck.validName(name) || !BundleCheck.validName(version)) {
      return Future.succeededFuture(Availability.NOT_ON_PRIMARY);
    }
    if (refusedUntil(name, version) != null) {
      return Future.succeededFuture(Availability.REFUSED);
    }
    Future<PublishedVersion> pull = pull(name, version, false);
    Promise<Availability> answer = Promise.promise();
    long wait = vertx.setTimer(Math.max(1, settings.pullWaitMs()), t -> answer.tryComplete(Availability.PULLING));
    pull.onComplete(ar -> {
      vertx.cancelTimer(wait);
      answer.tryComplete(ar.succeeded() ? Availability.HELD : availability(ar.cause()));
    });
    return answer.future();
  }

  /** Seconds a client should wait before asking again after {@code availability}. */
  public long retryAfterSeconds(Availability availability) {
    long ms = switch (availability) {
      case PULLING -> Math.max(1_000, settings.pullWaitMs());
      case REFUSED -> REFUSED_FOR.toMillis();
      default -> settings.intervalMs();
    };
    return Math.max(1, (ms + 999) / 1000);
  }

  /** Who the primary is and how the mirror is doing: the {@code mirror} of the registry listing. */
  public JsonObject status() {
    Instant last = metrics.lastSync();
    String state = awaySince != null ? "primary_unreachable" : last == null ? "not_synced_yet" : "following";
    return new JsonObject().put("primary", settings.primary()).put("primary_url", primary.baseUrl()).put("state", state)
        .put("last_sync_at", last == null ? null : last.toString())
        .put("seconds_since_sync", Math.round(metrics.secondsSinceSync()))
        .put("last_problem", lastProblem);
  }

  public String primaryName() {
    return settings.primary();
  }

  public String primaryUrl() {
    return primary.baseUrl();
  }

  private Future<Void> pullMissing(JsonObject listing) {
    return io.executeBlocking(() -> missing(listing)).compose(missing -> {
      Future<Void> chain = Future.succeededFuture();
      for (String[] version : missing) {
        // One version at a time; a bad one is reported and skipped, a primary gone away ends the round.
        chain = chain.compose(v -> pull(version[0], version[1], true).transform(ar -> ar.failed()
            && MirrorFailure.reasonOf(ar.cause()) == MirrorFailure.Reason.UNREACHABLE
            ? Future.failedFuture(ar.cause()) : Future.succeededFuture()));
      }
      return chain;
    });
  }

  /** The primary's versions not held here (nor refused lately), as {name, version}. Blocking. */
  private List<String[]> missing(JsonObject listing) {
    List<String[]> missing = new ArrayList<>();
    for (Object item : listing.getJsonArray("models", new JsonArray())) {
      if (!(item instanceof JsonObject model) || !BundleCheck.validName(model.getString("name"))) {
        continue;
      }
      String name = model.getString("name");
      for (Object entry : model.getJsonArray("versions", new JsonArray())) {
        String version = entry instanceof JsonObject v && v.getValue("version") instanceof String text ? text : null;
        if (BundleCheck.validName(version) && local.version(name, version).isEmpty() && refusedUntil(name, version) == null) {
          missing.add(new String[] {name, version});
        }
      }
    }
    return missing;
  }

  /** Points each model's CURRENT where the primary's points, once that version is held. Blocking; returns versions held. */
  private int followCurrent(JsonObject listing) {
    for (Object item : listing.getJsonArray("models", new JsonArray())) {
      if (!(item instanceof JsonObject model) || !(model.getValue("current") instanceof String current)) {
        continue;
      }
      String name = model.getString("name");
      if (!BundleCheck.validName(name) || local.version(name, current).isEmpty()) {
        continue;
      }
      String was = local.current(name).orElse(null);
      if (!current.equals(was)) {
        local.setCurrent(name, current);
        LOG.info("model registry of {}: {} CURRENT {} -> {}, following the primary {}", settings.region(), name,
            was == null ? "-" : was, current, settings.primary());
      }
    }
    return heldCount();
  }

  private synchronized Future<PublishedVersion> pull(String name, String version, boolean listed) {
    String key = name + " " + version;
    Future<PublishedVersion> running = pulls.get(key);
    if (running != null) {
      return running;
    }
    Future<PublishedVersion> pull = puller.pull(name, version)
        .onSuccess(published -> {
          metrics.pulled();
          refused.remove(key);
          LOG.info("model registry of {}: pulled {} {} from the primary {} ({} files, {} bytes, every SHA-256 checked)",
              settings.region(), name, version, settings.primary(), published.files().size(), published.sizeBytes());
        })
        .onFailure(err -> {
          MirrorFailure.Reason reason = MirrorFailure.reasonOf(err);
          if (reason == MirrorFailure.Reason.CHECKSUM || reason == MirrorFailure.Reason.BAD_ANSWER) {
            refused.put(key, clock.instant().plus(REFUSED_FOR));
          }
          if (listed || reason != MirrorFailure.Reason.NOT_ON_PRIMARY) {
            report(err);
            if (err instanceof MirrorFailure failure) {
              failure.markReported();
            }
          }
        });
    pulls.put(key, pull);
    pull.onComplete(ar -> {
      synchronized (this) {
        pulls.remove(key);
      }
    });
    return pull;
  }

  /** Counts a failed step; logs it once per outage (unreachable) or once per distinct problem. */
  private void report(Throwable err) {
    MirrorFailure.Reason reason = MirrorFailure.reasonOf(err);
    metrics.failed(reason);
    if (reason == MirrorFailure.Reason.UNREACHABLE) {
      if (awaySince == null) {
        awaySince = clock.instant();
        LOG.warn("model registry of {}: the primary registry {} does not answer ({}); serving the versions held here,"
            + " CURRENT stays where it is, retrying every {} ms", settings.region(), settings.primary(), err.getMessage(),
            settings.intervalMs());
      } else {
        LOG.debug("model registry of {}: the primary still does not answer: {}", settings.region(), err.getMessage());
      }
      return;
    }
    String problem = reason.tag() + ": " + err.getMessage();
    if (!problem.equals(lastProblem)) {
      lastProblem = problem;
      boolean refusal = reason == MirrorFailure.Reason.CHECKSUM || reason == MirrorFailure.Reason.BAD_ANSWER;
      LOG.error("model registry of {}: {}{}", settings.region(), err.getMessage(),
          refusal ? " (refused, not published here; tried again in " + REFUSED_FOR.toMinutes() + " min)" : "");
    } else {
      LOG.debug("model registry of {}: again {}", settings.region(), problem);
    }
  }

  private void recovered() {
    Instant since = awaySince;
    if (since != null) {
      awaySince = null;
      LOG.info("model registry of {}: the primary registry {} answers again after {} s; in sync", settings.region(),
          settings.primary(), Duration.between(since, clock.instant()).toSeconds());
    }
  }

  private Instant refusedUntil(String name, String version) {
    Instant until = refused.get(name + " " + version);
    return until != null && until.isAfter(clock.instant()) ? until : null;
  }

  private static Availability availability(Throwable err) {
    return switch (MirrorFailure.reasonOf(err)) {
      case UNREACHABLE -> Availability.PRIMARY_AWAY;
      case NOT_ON_PRIMARY -> Availability.NOT_ON_PRIMARY;
      case CHECKSUM, BAD_ANSWER -> Availability.REFUSED;
      case LOCAL_IO -> Availability.FAILED;
    };
  }

  private int heldCount() {
    return local.names().stream().mapToInt(name -> local.versions(name).size()).sum();
  }
}
