package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * {@code region-outage}: every process of one region SIGKILLed under load ({@code genmesh up
 * --region-processes}), held for {@code --duration}, then started again. The quorum declares it DOWN
 * and its peer adopts its open requests, which complete there; streams opened through the edge before
 * the kill reach {@code completed}; no submit fails meanwhile; the region started again reconciles
 * (what was adopted answers 307 there, never run again), is declared UP and serves new submits.
 */
final class RegionOutage implements Experiment {
  private static final Duration DECISION_WAIT = Duration.ofSeconds(180);
  private static final Set<String> OPEN = Set.of("queued", "assigned", "generating", "safety_pending");
  /** Long requests of our own, so that the victim surely holds some queued and running at the kill. */
  private static final int MARKERS = 4;

  @Override
  public String name() {
    return "region-outage";
  }

  @Override
  public String expected() {
    return "the killed region is declared DOWN and its peer adopts its open requests, which complete once; streams"
        + " opened before the kill reach completed; no submit fails; started again, it reconciles (adopted ids are"
        + " not run there), is declared UP and serves new submits";
  }

  @Override
  public void run(Run run) {
    JsonObject groups = run.mesh().targets().getJsonObject("region_processes", new JsonObject());
    if (!run.check("regions as processes, to kill one", groups.size() >= 2, groups.isEmpty()
        ? "none: every region runs inside one JVM; start the mesh with 'genmesh up --region-processes'"
        : groups.size() < 2 ? "one region only: nothing could adopt its work" : groups.fieldNames().toString())) {
      return;
    }
    List<Load.Submission> markers = new ArrayList<>();
    for (int i = 0; i < MARKERS; i++) {
      markers.add(run.load().submit(Load.TIERS.get(i % Load.TIERS.size()), i, WorkerTermination.MARKER_STEPS,
          WorkerTermination.MARKER_SIZE, System.nanoTime()));
    }
    Map<String, String> open = run.await(Duration.ofSeconds(60), () -> openByRegion(run, markers)).orElse(Map.of());
    String victim = mostOpen(open, groups.fieldNames());
    List<String> openInVictim = open.entrySet().stream().filter(e -> e.getValue().equals(victim)).map(Map.Entry::getKey)
        .toList();
    List<Stream> streams = openInVictim.stream().limit(3).map(id -> Stream.open(run.mesh().edge().toString(), id)).toList();
    Ledger.pause(300); // the streams replay their history first

    Instant killed = Instant.now();
    JsonArray victims = run.mesh().killRegion(victim).getJsonArray("killed", new JsonArray());
    run.check("every process of " + victim + " SIGKILLed", roles(victims).containsAll(Set.of("node", "postgres")),
        victims.encode());
    Optional<JsonObject> down = run.await(DECISION_WAIT, () -> decision(run, victim, "down", killed));
    run.measure("detection_s", down.map(d -> Run.seconds(killed, Instant.parse(d.getString("decided_at")))).orElse(-1.0));
    run.check(victim + " declared DOWN", down.isPresent(), down.map(JsonObject::encode).orElse("no DOWN decision within "
        + DECISION_WAIT.toSeconds() + " s"));
    String adopter = down.map(d -> d.getString("adopter")).orElse(null);
    Optional<Instant> moved = adopter == null ? Optional.empty() : run.await(DECISION_WAIT, () ->
        openInVictim.stream().allMatch(id -> servedElsewhere(run, id, victim)) ? Instant.now() : null);
    run.measure("adopted", openInVictim.size());
    run.measure("failover_complete_s", moved.map(at -> Run.seconds(killed, at)).orElse(-1.0));
    run.check("its open requests served by " + adopter, !openInVictim.isEmpty() && moved.isPresent(), openInVictim.size()
        + " open in " + victim + " at the kill: " + openInVictim);
    Duration left = run.duration().minus(Duration.between(killed, Instant.now()));
    run.hold(left.isNegative() ? Duration.ZERO : left);

    Instant restarted = Instant.now();
    run.window(killed, restarted);
    long refused = run.load().submissions().stream().filter(s -> !s.at().isBefore(killed) && s.at().isBefore(restarted))
        .filter(s -> !s.acknowledged()).count();
    run.measure("submits_failed_during_outage", refused);
    run.check("no submit failed while " + (groups.size() - 1) + " region(s) lived", refused == 0, refused + " of "
        + run.load().submissions().stream().filter(s -> !s.at().isBefore(killed) && s.at().isBefore(restarted)).count());
    JsonObject start = run.mesh().startRegion(victim);
    run.measure("restart_live_s", start.getDouble("live_after_s", -1.0));
    Optional<JsonObject> up = run.await(DECISION_WAIT, () -> decision(run, victim, "up", restarted));
    run.measure("failback_s", up.map(d -> Run.seconds(restarted, Instant.parse(d.getString("decided_at")))).orElse(-1.0));
    run.check(victim + " declared UP again", up.isPresent(), up.map(JsonObject::encode).orElse("no UP decision"));
    checkReconciled(run, victim, openInVictim);
    Optional<String> back = up.flatMap(d -> run.await(Duration.ofSeconds(90), () -> newSubmitIn(run, victim,
        Instant.parse(d.getString("decided_at")))));
    run.check("new submits return to " + victim, back.isPresent(), back.orElse("none acknowledged there within 90 s"));
    for (Stream stream : streams) {
      boolean done = run.await(Duration.ofSeconds(120), () -> stream.completed() ? true : null).isPresent();
      run.check("the stream of " + stream.id + " opened before the kill reached completed", done, stream.types().toString());
      stream.close();
    }
  }

  /** Id → region of each marker still open, through the edge (null until at least one is). */
  private static Map<String, String> openByRegion(Run run, List<Load.Submission> markers) {
    Map<String, String> open = new LinkedHashMap<>();
    for (Load.Submission marker : markers) {
      ChaosHttp.Answer view = marker.acknowledged() ? run.mesh().user(marker.user()).get("/v1/generations/" + marker.id())
          : new ChaosHttp.Answer(0, "");
      if (view.status() == 200 && OPEN.contains(view.json().getString("status"))) {
        open.put(marker.id(), view.json().getString("region"));
      }
    }
    return open.values().stream().anyMatch(r -> open.values().stream().filter(r::equals).count() >= 2) ? open : null;
  }

  private static String mostOpen(Map<String, String> open, Set<String> regions) {
    return regions.stream().max(java.util.Comparator.comparingLong(r -> open.values().stream().filter(r::equals).count()))
        .orElseThrow();
  }

  private static Set<String> roles(JsonArray killed) {
    Set<String> roles = new java.util.HashSet<>();
    killed.forEach(k -> roles.add(((JsonObject) k).getString("role")));
    return roles;
  }

  /** The edge's first decision about {@code region} in {@code state} taken after {@code since}. */
  private static JsonObject decision(Run run, String region, String state, Instant since) {
    ChaosHttp.Answer answer = run.mesh().edge().get("/failover/decisions");
    JsonArray history = answer.status() == 200 ? answer.json().getJsonArray("history", new JsonArray()) : new JsonArray();
    for (Object o : history) {
      JsonObject d = (JsonObject) o;
      if (region.equals(d.getString("region")) && state.equals(d.getString("state"))
          && Instant.parse(d.getString("decided_at")).isAfter(since)) {
        return d;
      }
    }
    return null;
  }

  /** The edge answers for {@code id} from another region than {@code victim} (adopted), or it ended there before. */
  private static boolean servedElsewhere(Run run, String id, String victim) {
    ChaosHttp.Answer view = run.mesh().user(0).get("/v1/generations/" + id);
    return view.status() == 200 && !victim.equals(view.json().getString("region"));
  }

  /** Each adopted id answers 307 in the returned region (marked adopted at its reconcile) and has no completion there. */
  private static void checkReconciled(Run run, String victim, List<String> adopted) {
    ChaosHttp regional = run.mesh().region(victim);
    List<String> wrong = new ArrayList<>();
    for (String id : adopted) {
      ChaosHttp.Answer view = regional.get("/regional/v1/generations/" + id);
      if (view.status() != 307) {
        wrong.add(id + " answered " + view.status() + " " + view.json().getString("status", ""));
      }
    }
    run.check("adopted ids marked adopted in " + victim + ", not run there", !adopted.isEmpty() && wrong.isEmpty(),
        wrong.isEmpty() ? adopted.size() + " answer 307" : wrong.toString());
  }

  /** A submit acknowledged after {@code since} whose request the edge says {@code region} serves. */
  private static String newSubmitIn(Run run, String region, Instant since) {
    List<Load.Submission> after = run.load().submissions().stream().filter(s -> s.acknowledged() && s.at().isAfter(since))
        .toList();
    for (Load.Submission s : after) {
      ChaosHttp.Answer view = run.mesh().user(s.user()).get("/v1/generations/" + s.id());
      if (view.status() == 200 && region.equals(view.json().getString("region"))) {
        return s.id();
      }
    }
    return null;
  }

  /** A client's progress stream through the edge ({@code GET /v1/generations/{id}/events}, WebSocket). */
  static final class Stream implements WebSocket.Listener {
    private final String id;
    private final List<String> types = new CopyOnWriteArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;

    private Stream(String id) {
      this.id = id;
    }

    static Stream open(String edgeUrl, String id) {
      Stream stream = new Stream(id);
      try {
        stream.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
            .buildAsync(URI.create(edgeUrl.replaceFirst("^http", "ws") + "/v1/generations/" + id + "/events"), stream)
            .get(15, TimeUnit.SECONDS);
      } catch (Exception e) {
        stream.types.add("(not opened: " + e + ")");
      }
      return stream;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        types.add(new JsonObject(partial.toString()).getString("type"));
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    boolean completed() {
      return types.contains("completed");
    }

    List<String> types() {
      return List.copyOf(types);
    }

    void close() {
      if (socket != null) {
        socket.abort();
      }
    }
  }
}
