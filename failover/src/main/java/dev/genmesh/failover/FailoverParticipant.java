package dev.genmesh.failover;

import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.failover.impl.FailoverMetrics;
import dev.genmesh.failover.impl.Polls;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.protocol.failover.RegionDecision.State;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One participant of region failure detection: the edge ({@link FailoverConfig#EDGE}) or a
 * region node (named by its region). Every {@code poll_interval} it probes every other region
 * ({@link RegionJudge}), fetches every other participant's opinions, applies the {@link Quorum}
 * rule and publishes each decision on {@link RegionDecision#ADDRESS} of its own event bus (logged
 * once, counted, kept in a bounded {@link DecisionHistory}). A region node also holds its
 * {@link FenceLease}: {@link #fenced()} says whether it may dispatch. Serves
 * {@code /failover/opinions} and {@code /failover/decisions} on the router it is mounted on.
 */
public final class FailoverParticipant {
  private static final Logger LOG = LoggerFactory.getLogger(FailoverParticipant.class);
  public static final String DECISIONS = "/failover/decisions";

  private final Vertx vertx;
  private final FailoverConfig config;
  private final String self;
  private final Clock clock;
  private final FailoverMetrics metrics;
  /** Participant → base URL; {@link #useAddresses} may change them while polling (read on each poll). */
  private final Map<String, String> urls = new java.util.concurrent.ConcurrentSkipListMap<>();
  private final Map<String, RegionJudge> judges = new TreeMap<>();
  private final Map<String, Polls.Report> reports = new ConcurrentHashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Quorum quorum;
  private final FenceLease lease;
  private final DecisionHistory history = new DecisionHistory();
  private final List<Consumer<RegionDecision>> decisionListeners = new CopyOnWriteArrayList<>();
  private final Duration staleAfter;
  private WebClient web;
  private Polls polls;
  private long timer = -1;
  private volatile boolean lastFenced;
  /** Held DOWN since its last reconcile: it reconciles with its adopter before it dispatches again. */
  private volatile boolean returning;
  private volatile boolean reconciling;
  private java.util.function.Supplier<io.vertx.core.Future<Void>> onReturn = io.vertx.core.Future::succeededFuture;

  /** @param self {@link FailoverConfig#EDGE} or a region's name */
  public FailoverParticipant(Vertx vertx, GenmeshConfig config, String self, Clock clock, MeterRegistry meters) {
    this.vertx = vertx;
    this.config = config.failover();
    this.self = self;
    this.clock = clock;
    config.regions().forEach((name, region) -> urls.put(name, trim(region.effectiveApiUrl())));
    urls.put(FailoverConfig.EDGE, trim(edgeUrl(config)));
    List<String> regions = List.copyOf(config.regions().keySet());
    regions.stream().filter(r -> !r.equals(self))
        .forEach(r -> judges.put(r, new RegionJudge(r, Duration.ofMillis(this.config.stallAfterMs()),
            startupGrace(this.config))));
    this.quorum = new Quorum(this.config, regions, List.copyOf(urls.keySet()), clock.instant());
    boolean region = config.regions().containsKey(self);
    this.lease = region ? new FenceLease(quorum.observersOf(self), Duration.ofMillis(this.config.fenceAfterMs())) : null;
    this.lastFenced = region && this.config.enabled();
    this.metrics = new FailoverMetrics(meters, self, regions, region);
    this.staleAfter = Duration.ofMillis(2 * this.config.pollIntervalMs() + this.config.pollTimeoutMs());
    metrics.fenced(lastFenced);
  }

  /** Starts polling (when {@code failover.enabled}); call on the context that should run it. */
  public void start() {
    if (!config.enabled()) {
      LOG.info("{}: failover detection is off (failover.enabled: false)", self);
      return;
    }
    web = WebClient.create(vertx);
    polls = new Polls(web, config.pollTimeoutMs());
    timer = vertx.setPeriodic(1, config.pollIntervalMs(), tick -> round());
    LOG.info("{}: observing {} (quorum of {} observers each, detect after {} ms, fence after {} ms)", self,
        judges.keySet(), quorum.observersOf(self).size(), config.detectAfterMs(), config.fenceAfterMs());
  }

  public void stop() {
    if (timer != -1) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (web != null) {
      web.close();
      web = null;
    }
  }

  /**
   * True while this region node may not dispatch: fewer than a majority of its observers hold it
   * ok ({@link FenceLease}), or it is held DOWN, by its own quorum view or by any observer heard
   * from lately (a region cut off while it was declared down learns it when the cut heals); it
   * dispatches again only once declared UP. Always false for the edge, or with failover off.
   */
  public boolean fenced() {
    return fenceReason() != null;
  }

  /**
   * What a region node does before it dispatches again after it was held DOWN (its adopter may
   * have taken its open requests while it kept running, cut off): it stays fenced until the
   * returned future succeeds, and is tried again each poll until it does.
   */
  public void onReturn(java.util.function.Supplier<io.vertx.core.Future<Void>> reconcile) {
    this.onReturn = reconcile;
  }

  /** Why this region node is fenced now; null when it is not. */
  public String fenceReason() {
    String reason = quorumFenceReason();
    return reason == null && returning ? "it was held DOWN: reconciling with its adopter before it dispatches" : reason;
  }

  private String quorumFenceReason() {
    if (lease == null || !config.enabled()) {
      return null;
    }
    Instant now = clock.instant();
    if (lease.fenced(now)) {
      return "fewer than " + lease.majority() + " of its observers " + quorum.observersOf(self)
          + " said it is ok within the last " + config.fenceAfterMs() + " ms";
    }
    if (quorum.state(self) == State.DOWN) {
      return "the quorum holds it DOWN (until it is declared UP)";
    }
    for (Map.Entry<String, Polls.Report> report : reports.entrySet()) {
      if (fresh(report.getValue(), now) && report.getValue().down().contains(self)) {
        return report.getKey() + " holds it DOWN (until it is declared UP)";
      }
    }
    return null;
  }

  private boolean fresh(Polls.Report report, Instant now) {
    return report.receivedAt().plus(staleAfter).isAfter(now);
  }

  /**
   * Where the other participants listen, once they have bound their ports: {@code genmesh up
   * --random-ports} starts every listener on port 0, so the configured URLs name port 0 until the
   * mesh tells each participant the real ones (participant → base URL). Names that are not
   * participants, and this participant's own, are ignored; the next poll uses the new URLs.
   */
  public void useAddresses(Map<String, String> addresses) {
    Map<String, String> changed = new TreeMap<>();
    addresses.forEach((participant, url) -> {
      if (!participant.equals(self) && urls.containsKey(participant) && !trim(url).equals(urls.get(participant))) {
        urls.put(participant, trim(url));
        changed.put(participant, trim(url));
      }
    });
    if (!changed.isEmpty()) {
      LOG.info("{}: the other participants listen at {}", self, changed);
    }
  }

  /** The base URL this participant reaches {@code participant} at (null for an unknown name). */
  public String urlOf(String participant) {
    return urls.get(participant);
  }

  public State state(String region) {
    return quorum.state(region);
  }

  /** Where {@code owner}'s requests are served now: its adopter while it is DOWN, else itself. */
  public String servingRegion(String owner) {
    String adopter = config.adopterOf(owner);
    return quorum.state(owner) == State.DOWN && adopter != null ? adopter : owner;
  }

  public void onDecision(Consumer<RegionDecision> listener) {
    decisionListeners.add(listener);
  }

  public List<RegionDecision> history() {
    return history.all();
  }

  public void mount(Router router) {
    router.get(Polls.OPINIONS).handler(this::serveOpinions);
    router.get(DECISIONS).handler(this::serveDecisions);
  }

  private void round() {
    Instant now = clock.instant();
    decide(now);
    judges.forEach((region, judge) -> once("probe:" + region, () -> polls.probe(urls.get(region)).onSuccess(probe -> {
      Opinion opinion = judge.judge(probe, clock.instant(), quorum.state(region) == State.UP);
      if (!probe.answered()) {
        metrics.pollFailed(region, "status");
      }
      LOG.debug("{}: {} is {} ({})", self, region, opinion.verdict().wireName(), opinion.reason());
    }).mapEmpty()));
    urls.forEach((participant, url) -> {
      if (participant.equals(self)) {
        return;
      }
      once("opinions:" + participant, () -> {
        Instant sentAt = clock.instant();
        return polls.opinions(url, clock).onSuccess(report -> {
          reports.put(participant, report);
          if (lease != null) {
            Opinion ofMe = report.opinions().get(self);
            lease.vote(participant, sentAt, ofMe != null && !ofMe.suspect());
          }
        }).onFailure(err -> {
          metrics.pollFailed(participant, "opinions");
          LOG.debug("{}: no opinions from {}: {}", self, participant, err.getMessage());
        }).mapEmpty();
      });
    });
  }

  private void once(String key, java.util.function.Supplier<io.vertx.core.Future<Void>> call) {
    if (inFlight.add(key)) {
      call.get().onComplete(done -> inFlight.remove(key));
    }
  }

  /** The quorum over what is known now, then the fence state. */
  private void decide(Instant now) {
    Map<String, Map<String, Opinion>> opinions = new TreeMap<>();
    opinions.put(self, ownOpinions());
    reports.forEach((participant, report) -> {
      if (fresh(report, now)) {
        opinions.put(participant, report.opinions());
      }
    });
    for (RegionDecision decision : quorum.evaluate(opinions, now)) {
      announce(decision, now);
    }
    String quorumWhy = quorumFenceReason();
    if (quorumWhy != null && quorumWhy.contains("DOWN")) {
      returning = true;
    } else if (quorumWhy == null && returning && !reconciling) {
      reconcile();
    }
    String why = fenceReason();
    boolean fenced = why != null;
    if (fenced != lastFenced) {
      lastFenced = fenced;
      metrics.fenced(fenced);
      if (fenced) {
        LOG.warn("region {} FENCED: {}; no new attempts are dispatched", self, why);
      } else {
        LOG.info("region {} unfenced: {} of its observers hold it ok and none holds it down; dispatching again", self,
            lease.validVotes(now));
      }
    }
  }

  /** Once held DOWN and no longer: the node's reconcile runs before the fence lifts (a failure: next poll). */
  private void reconcile() {
    reconciling = true;
    LOG.info("region {}: held DOWN until now; reconciling with its adopter before dispatching again", self);
    onReturn.get().onComplete(done -> {
      reconciling = false;
      metrics.returnReconciled(done.succeeded());
      if (done.succeeded()) {
        returning = false;
        LOG.info("region {}: reconciled after being held DOWN", self);
      } else {
        LOG.warn("region {}: reconcile after being held DOWN failed ({}); still fenced, trying again next poll", self,
            done.cause().toString());
      }
    });
  }

  private void announce(RegionDecision decision, Instant seenAt) {
    history.add(decision);
    metrics.decided(decision);
    if (decision.state() == State.DOWN) {
      LOG.warn("{}: region {} declared DOWN (adopter {}): suspected since {}, decided at {} after {} ms, seen at {}; {}",
          self, decision.region(), decision.adopter(), decision.suspectedSince(), decision.decidedAt(),
          decision.detectionMs(), seenAt, decision.reason());
    } else {
      LOG.info("{}: region {} declared UP again: healthy since {}, decided at {}, seen at {}; {}", self,
          decision.region(), decision.suspectedSince(), decision.decidedAt(), seenAt, decision.reason());
    }
    vertx.eventBus().publish(RegionDecision.ADDRESS, decision.toJson());
    decisionListeners.forEach(listener -> listener.accept(decision));
  }

  private Map<String, Opinion> ownOpinions() {
    Map<String, Opinion> own = new TreeMap<>();
    judges.forEach((region, judge) -> {
      if (judge.opinion() != null) {
        own.put(region, judge.opinion());
      }
    });
    return own;
  }

  private void serveOpinions(RoutingContext ctx) {
    Instant now = clock.instant();
    JsonObject opinions = new JsonObject();
    ownOpinions().forEach((region, opinion) -> opinions.put(region, opinion.toJson(now)));
    JsonObject decisions = new JsonObject();
    quorum.states().forEach((region, state) -> decisions.put(region, state.name().toLowerCase(java.util.Locale.ROOT)));
    JsonObject body = new JsonObject().put("observer", self).put("at", now.toString()).put("enabled", config.enabled())
        .put("opinions", opinions).put("decisions", decisions);
    if (lease != null) {
      body.put("fenced", fenced());
    }
    reply(ctx, body);
  }

  private void serveDecisions(RoutingContext ctx) {
    JsonObject regions = new JsonObject();
    quorum.states().forEach((region, state) -> {
      JsonObject entry = new JsonObject().put("state", state.name().toLowerCase(java.util.Locale.ROOT))
          .put("since", quorum.since(region).toString()).put("serving", servingRegion(region));
      regions.put(region, entry);
    });
    List<Object> history = new ArrayList<>();
    this.history.all().forEach(d -> history.add(d.toJson()));
    reply(ctx, new JsonObject().put("participant", self).put("enabled", config.enabled()).put("regions", regions)
        .put("history", new io.vertx.core.json.JsonArray(history)));
  }

  private static void reply(RoutingContext ctx, JsonObject body) {
    ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store").end(body.encode());
  }

  private static String edgeUrl(GenmeshConfig config) {
    if (!config.failover().edgeUrl().isEmpty()) {
      return config.failover().edgeUrl();
    }
    String host = config.edge().host();
    return "http://" + ("0.0.0.0".equals(host) || host.isEmpty() ? "127.0.0.1" : host) + ":" + config.edge().port();
  }

  private static String trim(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /**
   * How long a region no observer has seen ready yet is not suspected: eight times
   * {@code detect_after_ms} (2 min by default), longer than any start of a region we have seen,
   * so that the regions of a deployment starting together are not declared down for starting
   * slowly (docs/failover.md, "Where it stands").
   */
  static Duration startupGrace(FailoverConfig config) {
    return Duration.ofMillis(8 * config.detectAfterMs());
  }
}
