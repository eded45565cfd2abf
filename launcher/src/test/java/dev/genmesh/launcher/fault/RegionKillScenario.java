package dev.genmesh.launcher.fault;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One region's loss under load, played on a running {@link ProcessMesh} (docs/failover.md, "Trials"):
 * steady submits through the edge; once the victim has completed some requests and holds others
 * queued and running, progress streams are opened through the edge and every process of the
 * victim is SIGKILLed; the load goes on until its adopter has taken its work over. What it measured
 * and saw comes back as an {@link Outcome}; the caller judges it (a test asserts, a trial records).
 */
final class RegionKillScenario {
  static final String VICTIM = "us-west";
  static final String ADOPTER = "us-east";
  private static final Duration WAIT = Duration.ofSeconds(180);
  private static final Pattern DNS_DOWN = Pattern.compile(
      "DNS failover: " + VICTIM + " DOWN applied through .*: (\\d+) ms after the decision");
  private static final Set<String> OPEN = Set.of("queued", "assigned", "generating", "safety_pending");

  /**
   * @param completedBefore the victim's requests completed (and their images copied) before the kill
   * @param adopted the victim's requests its adopter took over (open at the kill)
   * @param detectMs kill → DOWN decision (decided_at); {@code detectionMs}: the quorum's own figure,
   *     first suspicion → decision
   * @param adoptedQueuedMs kill → the last adopted request queued in the adopter (its region_failover event)
   * @param dnsMs kill → the DNS change confirmed (the edge's DNS failover line)
   */
  record Outcome(Instant killedAt, List<String> completedBefore, List<String> adopted, List<EdgeStream> streams,
      long detectMs, long detectionMs, long adoptedQueuedMs, long dnsMs, JsonObject decision, SteadyLoad load) {}

  private final ProcessMesh mesh;

  RegionKillScenario(ProcessMesh mesh) {
    this.mesh = mesh;
  }

  /** Waits until no region is fenced, the edge holds every region ready and each log streams to its peer (sync). */
  void awaitSteady() {
    for (String region : ProcessMesh.REGIONS) {
      MeshClient client = mesh.regional(region);
      Sleeps.until(region + " unfenced and its log streaming to its peer", WAIT, () -> {
        MeshClient.Answer opinions = client.get("/failover/opinions");
        MeshClient.Answer replication = client.get("/internal/replication");
        return opinions.status() == 200 && !opinions.json().getBoolean("fenced", true)
            && replication.status() == 200 && replication.json().getBoolean("peer_streaming", false) ? true : null;
      });
    }
    Sleeps.until("the edge to hold every region ready", WAIT, () -> mesh.edge().get("/health/ready").status() == 200
        && ProcessMesh.REGIONS.stream().allMatch(r -> "healthy".equals(mesh.edge().get("/health/ready").json()
        .getJsonObject("regions").getJsonObject(r).getString("status"))) ? true : null);
  }

  /** Load, kill, adoption; returns once every adopted request is queued in the adopter and the DNS changed. */
  Outcome run(int users, int steps) {
    MeshClient victim = mesh.regional(VICTIM);
    SteadyLoad load = new SteadyLoad(mesh.edge(), users, Duration.ofMillis(500), steps);
    // Some of the victim's requests complete, then their images have time to reach the copies (interval 0.5 s).
    List<String> completedBefore = Sleeps.until("3 requests completed in " + VICTIM, WAIT, () -> {
      List<String> done = ofVictim(load.acknowledged()).stream()
          .filter(id -> "completed".equals(status(victim, id))).toList();
      return done.size() >= 3 ? done : null;
    });
    Sleeps.pause(Duration.ofSeconds(3));
    Sleeps.until(VICTIM + " holding requests queued and running", WAIT, () -> {
      Map<String, String> states = states(victim, ofVictim(load.acknowledged()));
      return states.containsValue("queued") && states.containsValue("generating") ? true : null;
    });
    List<EdgeStream> streams = new ArrayList<>();
    states(victim, ofVictim(load.acknowledged())).forEach((id, state) -> {
      if (OPEN.contains(state) && streams.size() < 3) {
        streams.add(EdgeStream.open(mesh.edgeUrl(), id));
      }
    });
    Sleeps.pause(Duration.ofMillis(300)); // the streams replay their history first
    Instant killedAt = Instant.now();
    mesh.kill(VICTIM);

    JsonObject decision = Sleeps.until(VICTIM + " declared DOWN", WAIT, () -> downDecision().orElse(null));
    Instant decidedAt = Instant.parse(decision.getString("decided_at"));
    MeshClient adopter = mesh.regional(ADOPTER);
    List<String> adopted = Sleeps.until("the adopter to queue what it adopted", WAIT, () -> {
      MeshClient.Answer answer = adopter.get("/failover/decisions");
      return answer.status() == 200 ? adoptedIds(adopter, ofVictim(load.acknowledged())) : null;
    });
    long adoptedQueuedMs = adopted.stream().flatMap(id -> adopter.events(id).stream())
        .filter(e -> "region_failover".equals(e.getString("type")))
        .mapToLong(e -> Duration.between(killedAt, Instant.parse(e.getString("time"))).toMillis()).max().orElse(-1);
    Matcher dns = mesh.edgeProcess().awaitLine(DNS_DOWN, WAIT);
    long dnsMs = Duration.between(killedAt, decidedAt).toMillis() + Long.parseLong(dns.group(1));
    Sleeps.pause(Duration.ofSeconds(5)); // submits go on while two regions live
    load.close();
    return new Outcome(killedAt, completedBefore, adopted, streams, Duration.between(killedAt, decidedAt).toMillis(),
        decision.getLong("detection_ms"), adoptedQueuedMs, dnsMs, decision, load);
  }

  /** The victim's ids in the adopter's log (it answers them as its own): what it adopted. */
  private static List<String> adoptedIds(MeshClient adopter, List<String> victims) {
    List<String> adopted = new ArrayList<>();
    for (String id : victims) {
      if (adopter.view(id).status() == 200) {
        adopted.add(id);
      }
    }
    return adopted.isEmpty() ? null : adopted;
  }

  Optional<JsonObject> downDecision() {
    MeshClient.Answer answer = mesh.edge().get("/failover/decisions");
    if (answer.status() != 200) {
      return Optional.empty();
    }
    JsonArray history = answer.json().getJsonArray("history");
    for (int i = 0; i < history.size(); i++) {
      JsonObject decision = history.getJsonObject(i);
      if (VICTIM.equals(decision.getString("region")) && "down".equals(decision.getString("state"))) {
        return Optional.of(decision);
      }
    }
    return Optional.empty();
  }

  /** The first UP decision about the victim after its DOWN, from the edge. */
  Optional<JsonObject> upDecision() {
    JsonArray history = mesh.edge().get("/failover/decisions").json().getJsonArray("history");
    for (int i = 0; i < history.size(); i++) {
      JsonObject decision = history.getJsonObject(i);
      if (VICTIM.equals(decision.getString("region")) && "up".equals(decision.getString("state"))) {
        return Optional.of(decision);
      }
    }
    return Optional.empty();
  }

  static List<String> ofVictim(List<String> ids) {
    return ids.stream().filter(id -> id.startsWith("usw_")).toList();
  }

  private static Map<String, String> states(MeshClient region, List<String> ids) {
    Map<String, String> states = new LinkedHashMap<>();
    ids.forEach(id -> states.put(id, status(region, id)));
    return states;
  }

  private static String status(MeshClient region, String id) {
    MeshClient.Answer answer = region.view(id);
    return answer.status() == 200 ? answer.json().getString("status") : null;
  }

  /** Which region answers for {@code id} now: its own; the one that adopted it (a 307); its adopter while it is down. */
  static String servingRegion(ProcessMesh mesh, String id) {
    int owner = id.startsWith("usw_") ? 0 : id.startsWith("use_") ? 1 : 2;
    MeshClient.Answer answer = mesh.regional(ProcessMesh.REGIONS.get(owner)).view(id);
    return answer.status() == 307 ? answer.json().getString("region")
        : answer.status() == 0 ? ProcessMesh.REGIONS.get((owner + 1) % 3) : ProcessMesh.REGIONS.get(owner);
  }

  static Set<String> distinct(List<String> ids) {
    return new LinkedHashSet<>(ids);
  }
}
