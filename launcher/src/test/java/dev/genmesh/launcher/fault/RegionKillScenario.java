package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
  private static final Pattern ADOPTED = Pattern.compile(
      "region " + ADOPTER + ": adopted (\\d+) requests of " + VICTIM + " .*all queued (\\d+) ms after the decision");
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
      long detectMs, long detectionMs, long adoptedQueuedMs, long dnsMs, JsonObject decision, SteadyLoad load,
      Instant fencedAt) {}

  /** Polls the victim's own view (its real port, past any proxy) for the first moment it says it is fenced. */
  private static final class FenceWatch implements AutoCloseable {
    private volatile Instant fencedAt;
    private volatile boolean running = true;
    private final Thread thread;

    FenceWatch(MeshClient victim) {
      thread = new Thread(() -> {
        while (running && fencedAt == null) {
          MeshClient.Answer answer = victim.get("/failover/opinions");
          if (answer.status() == 200 && answer.json().getBoolean("fenced", false)) {
            fencedAt = Instant.now();
          }
          Sleeps.pause(Duration.ofMillis(100));
        }
      }, "fence-watch");
      thread.setDaemon(true);
      thread.start();
    }

    /** When the victim first said it was fenced; null if it never did (or died first). */
    Instant fencedAt() {
      return fencedAt;
    }

    @Override
    public void close() {
      running = false;
    }
  }

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
            && replication.status() == 200 && replication.json().getBoolean("peer_streaming", false)
            && "sync".equals(replication.json().getString("mode")) ? true : null; // sync: the peer's copy is done too
      });
    }
    Sleeps.until("the edge to hold every region ready", WAIT, () -> mesh.edge().get("/health/ready").status() == 200
        && ProcessMesh.REGIONS.stream().allMatch(r -> "healthy".equals(mesh.edge().get("/health/ready").json()
        .getJsonObject("regions").getJsonObject(r).getString("status"))) ? true : null);
  }

  /** Load, kill, adoption; returns once every adopted request is queued in the adopter and the DNS changed. */
  Outcome run(int users, int steps) {
    return run(users, steps, 0);
  }

  /** @param earlierDowns DOWN decisions about the victim before this run (an earlier trial's) */
  Outcome run(int users, int steps, int earlierDowns) {
    return run(users, steps, () -> mesh.kill(VICTIM), earlierDowns);
  }

  /** The same with another fault on the victim (e.g. {@link ProcessMesh#partition}); it must leave two regions serving. */
  Outcome run(int users, int steps, Runnable fault) {
    return run(users, steps, fault, 0);
  }

  Outcome run(int users, int steps, Runnable fault, int earlierDowns) {
    MeshClient victim = mesh.regional(VICTIM);
    SteadyLoad load = new SteadyLoad(mesh.edge(), users, Duration.ofMillis(1500), steps);
    // Some of the victim's requests complete, then their images have time to reach the copies (interval 0.5 s).
    List<String> completedBefore = Sleeps.until("3 requests completed in " + VICTIM, WAIT, () -> {
      List<String> done = statesInVictim().entrySet().stream().filter(e -> e.getValue().equals("COMPLETED"))
          .map(Map.Entry::getKey).toList();
      return done.size() >= 3 ? done : null;
    });
    Sleeps.pause(Duration.ofSeconds(3));
    Map<String, String> open = Sleeps.until(VICTIM + " holding requests queued and running", WAIT, () -> {
      Map<String, String> states = statesInVictim();
      return states.containsValue("QUEUED") && states.containsValue("GENERATING") ? states : null;
    });
    List<EdgeStream> streams = new ArrayList<>();
    open.forEach((id, state) -> {
      if (OPEN.contains(state.toLowerCase(java.util.Locale.ROOT)) && streams.size() < 3) {
        streams.add(EdgeStream.open(mesh.edgeUrl(), id));
      }
    });
    Sleeps.pause(Duration.ofMillis(300)); // the streams replay their history first
    Instant killedAt = Instant.now();
    FenceWatch fence = new FenceWatch(victim);
    fault.run();

    JsonObject decision = Sleeps.until(VICTIM + " declared DOWN", WAIT, () -> {
      List<JsonObject> downs = decisions("down");
      return downs.size() > earlierDowns ? downs.get(earlierDowns) : null;
    });
    Instant decidedAt = Instant.parse(decision.getString("decided_at"));
    Matcher queued = Sleeps.until("the adopter to queue what it adopted", WAIT, () -> {
      List<Matcher> adoptions = mesh.node(ADOPTER).lines().stream().map(ADOPTED::matcher).filter(Matcher::find).toList();
      return adoptions.size() > earlierDowns ? adoptions.get(earlierDowns) : null;
    });
    long adoptedQueuedMs = Duration.between(killedAt, decidedAt).toMillis() + Long.parseLong(queued.group(2));
    List<String> adopted = adoptedSince(killedAt);
    assertThat(adopted).as("ids in the adopter's adoptions").hasSize(Integer.parseInt(queued.group(1)));
    Matcher dns = Sleeps.until("the DNS change", WAIT, () -> {
      List<Matcher> changes = mesh.edgeProcess().lines().stream().map(DNS_DOWN::matcher).filter(Matcher::find).toList();
      return changes.size() > earlierDowns ? changes.get(earlierDowns) : null;
    });
    long dnsMs = Duration.between(killedAt, decidedAt).toMillis() + Long.parseLong(dns.group(1));
    Sleeps.pause(Duration.ofSeconds(3)); // submits go on while two regions live
    load.close();
    fence.close();
    return new Outcome(killedAt, completedBefore, adopted, streams, Duration.between(killedAt, decidedAt).toMillis(),
        decision.getLong("detection_ms"), adoptedQueuedMs, dnsMs, decision, load, fence.fencedAt());
  }

  /** Id → status of every request in the victim's own log (one query to its PostgreSQL, not a call per id). */
  private Map<String, String> statesInVictim() {
    String url = "jdbc:postgresql://127.0.0.1:" + mesh.region(VICTIM).pgPort() + "/" + ProcessMesh.DATABASE;
    Map<String, String> states = new LinkedHashMap<>();
    try (java.sql.Connection connection = java.sql.DriverManager.getConnection(url, "postgres", "");
        java.sql.Statement query = connection.createStatement();
        java.sql.ResultSet rows = query.executeQuery("SELECT id, status FROM " + VICTIM.replace('-', '_')
            + ".requests ORDER BY created_at")) {
      while (rows.next()) {
        states.put(rows.getString(1), rows.getString(2));
      }
    } catch (java.sql.SQLException e) {
      throw new AssertionError("cannot read " + VICTIM + "'s log: " + e, e);
    }
    return states;
  }

  /** The victim's requests the adopter adopted since {@code since} (its {@code adoptions}, read from its PostgreSQL). */
  private List<String> adoptedSince(Instant since) {
    String url = "jdbc:postgresql://127.0.0.1:" + mesh.region(ADOPTER).pgPort() + "/" + ProcessMesh.DATABASE;
    try (java.sql.Connection connection = java.sql.DriverManager.getConnection(url, "postgres", "");
        java.sql.PreparedStatement query = connection.prepareStatement("SELECT request_id FROM "
            + ADOPTER.replace('-', '_') + ".adoptions WHERE from_region = ? AND adopted_at >= ? ORDER BY request_id")) {
      query.setString(1, VICTIM);
      query.setObject(2, java.time.OffsetDateTime.ofInstant(since, java.time.ZoneOffset.UTC));
      List<String> ids = new ArrayList<>();
      try (java.sql.ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          ids.add(rows.getString(1));
        }
      }
      return ids;
    } catch (java.sql.SQLException e) {
      throw new AssertionError("cannot read " + ADOPTER + "'s adoptions: " + e, e);
    }
  }

  /** The edge's decisions about the victim in {@code state} (down, up), oldest first. */
  List<JsonObject> decisions(String state) {
    MeshClient.Answer answer = mesh.edge().get("/failover/decisions");
    if (answer.status() != 200) {
      return List.of();
    }
    List<JsonObject> found = new ArrayList<>();
    JsonArray history = answer.json().getJsonArray("history");
    for (int i = 0; i < history.size(); i++) {
      JsonObject decision = history.getJsonObject(i);
      if (VICTIM.equals(decision.getString("region")) && state.equals(decision.getString("state"))) {
        found.add(decision);
      }
    }
    return found;
  }

  int downDecisions() {
    return decisions("down").size();
  }

  int upDecisions() {
    return decisions("up").size();
  }

  /** The first UP decision about the victim, from the edge. */
  Optional<JsonObject> upDecision() {
    return decisions("up").stream().findFirst();
  }

  static List<String> ofVictim(List<String> ids) {
    return ids.stream().filter(id -> id.startsWith("usw_")).toList();
  }

  /** Which region answers for {@code id} now: its own; the one that adopted it (a 307); its adopter while it is down. */
  static String servingRegion(ProcessMesh mesh, String id) {
    int owner = id.startsWith("usw_") ? 0 : id.startsWith("use_") ? 1 : 2;
    MeshClient.Answer answer = mesh.regional(ProcessMesh.REGIONS.get(owner)).view(id);
    return answer.status() == 307 ? answer.json().getString("region")
        : answer.status() == 0 ? ProcessMesh.REGIONS.get((owner + 1) % 3) : ProcessMesh.REGIONS.get(owner);
  }

  /**
   * After fail-back, with the victim UP again: the edge answers status, the event stream resumed with
   * {@code ?after=}, the first image and a cancel of (up to {@code max}) ids the adopter took over
   * exactly as the adopter does (it follows the victim's 307), each id already completed there.
   */
  static void assertEdgeAnswersAsTheAdopter(ProcessMesh mesh, List<String> adopted, int max) {
    MeshClient adopter = mesh.regional(ADOPTER);
    MeshClient edge = mesh.edge();
    for (String id : adopted.stream().limit(max).toList()) {
      assertThat(mesh.regional(VICTIM).view(id).status()).as("%s on %s", id, VICTIM).isEqualTo(307);
      MeshClient.Answer view = edge.view(id);
      assertThat(view.status()).as("status of %s through the edge: %s", id, view.body()).isEqualTo(200);
      assertThat(view.json().getString("status")).as(id).isEqualTo(adopter.view(id).json().getString("status"))
          .isEqualTo("completed");
      List<JsonObject> events = adopter.events(id);
      long after = events.get(Math.max(0, events.size() - 3)).getLong("id");
      EdgeStream stream = EdgeStream.open(mesh.edgeUrl(), id, after);
      Sleeps.until(id + "'s resumed stream through the edge to complete", WAIT, () -> stream.completed() ? true : null);
      assertThat(stream.ids()).as("stream of %s after %d through the edge", id, after)
          .isEqualTo(events.stream().map(e -> e.getLong("id")).filter(n -> n > after).toList());
      String image = "/v1/images/" + id + "/0.png";
      assertThat(edge.image(image)).as("image of %s through the edge", id).isEqualTo(adopter.image(image));
      MeshClient.Answer cancel = edge.cancel(id);
      assertThat(cancel.status()).as("cancel of %s through the edge: %s", id, cancel.body())
          .isEqualTo(adopter.cancel(id).status()).isEqualTo(409);
    }
  }

  /** Of {@code ids}, those with a completed event in {@code region}'s own log (read from its PostgreSQL). */
  static List<String> completedIn(ProcessMesh mesh, String region, List<String> ids) throws java.sql.SQLException {
    Map<String, Boolean> completed = perId(mesh, region, ids, "SELECT count(*) FROM " + schema(region)
        + ".request_events WHERE request_id = ? AND type = 'completed'", rows -> rows.next() && rows.getLong(1) > 0);
    return completed.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
  }

  /** The status of each of {@code ids} in {@code region}'s own log (read from its PostgreSQL). */
  static Map<String, String> statusIn(ProcessMesh mesh, String region, List<String> ids) throws java.sql.SQLException {
    return perId(mesh, region, ids, "SELECT status FROM " + schema(region) + ".requests WHERE id = ?",
        rows -> rows.next() ? rows.getString(1) : null);
  }

  /** Reads one value from a query's rows. */
  private interface RowsReader<T> {
    T read(java.sql.ResultSet rows) throws java.sql.SQLException;
  }

  /** {@code sql} (one {@code ?}: the id) run for each of {@code ids} in {@code region}'s PostgreSQL. */
  private static <T> Map<String, T> perId(ProcessMesh mesh, String region, List<String> ids, String sql,
      RowsReader<T> reader) throws java.sql.SQLException {
    Map<String, T> values = new LinkedHashMap<>();
    try (java.sql.Connection connection = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
            + mesh.region(region).pgPort() + "/" + ProcessMesh.DATABASE, "postgres", "");
        java.sql.PreparedStatement query = connection.prepareStatement(sql)) {
      for (String id : ids) {
        query.setString(1, id);
        try (java.sql.ResultSet rows = query.executeQuery()) {
          values.put(id, reader.read(rows));
        }
      }
    }
    return values;
  }

  /** The victim's held results by outcome (held, released, discarded), from its metrics. */
  static Map<String, Double> heldResults(ProcessMesh mesh) {
    String page = mesh.regional(VICTIM).get("/metrics").body();
    Map<String, Double> counts = new LinkedHashMap<>();
    for (String outcome : List.of("held", "released", "discarded")) {
      counts.put(outcome, Metrics.sum(page, "genmesh_failover_results_total", Map.of("outcome", outcome)));
    }
    return counts;
  }

  private static String schema(String region) {
    return region.replace('-', '_');
  }

  /**
   * Each request checked where it is served now (its own region, or the one that adopted it):
   * terminal, completed, one completed event, one image set ({@link Invariants}).
   */
  static void awaitEveryRequestDone(ProcessMesh mesh, List<String> ids, Duration wait) {
    Map<String, Invariants> byRegion = new LinkedHashMap<>();
    for (String id : ids) {
      // Where it is served, asked until it answers terminal there: right after the UP decision the returned
      // region may answer 200 for a request its reconciliation marks ADOPTED (then 307) a moment later.
      String serving = Sleeps.until(id + " terminal where it is served", wait, () -> {
        String region = servingRegion(mesh, id);
        MeshClient.Answer answer = mesh.regional(region).view(id);
        return answer.status() == 200 && List.of("completed", "failed", "cancelled")
            .contains(answer.json().getString("status")) ? region : null;
      });
      byRegion.computeIfAbsent(serving, r -> new Invariants()).record(new MeshClient.Answer(202,
          new JsonObject().put("id", id).encode(), Optional.empty(), ""));
    }
    byRegion.forEach((region, invariants) -> invariants.awaitAllCompleted(mesh.regional(region), wait));
  }
}
