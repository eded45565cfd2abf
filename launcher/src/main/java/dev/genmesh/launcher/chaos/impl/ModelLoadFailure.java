package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code model-load-failure}: the load's model ({@link #MODEL}) has its weights corrupted in the
 * registries and the workers' cache (the control API), and a worker process is restarted onto them
 * (SIGKILL; the region's autoscaler starts the replacement). The replacement finds its copy bad,
 * pulls again, fails verification on every pull, has nothing to roll back to and serves without
 * the model: it refuses the model's requests as {@code model_load_failed}. Expected: a breaker
 * opens (the worker's, or the model's), every refused request is retried on another worker and
 * completes, none fails; once the files are restored the worker loads the model and serves it.
 */
final class ModelLoadFailure implements Experiment {
  static final String MODEL = "genmesh-tiny";
  static final Duration START_TIMEOUT = Duration.ofSeconds(180);
  static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(180);
  private static final Set<String> TRIPPED = Set.of("open", "half_open");

  private String broken;
  private Instant healed;
  /** Every tripped breaker and shed tier seen in the regions' ops views, from the fault to the worker's recovery. */
  private final Set<String> seen = new java.util.TreeSet<>();

  @Override
  public String name() {
    return "model-load-failure";
  }

  @Override
  public String expected() {
    return "a worker restarted onto corrupted model files cannot load the model: its (or the model's) breaker opens,"
        + " the requests it refused are retried on other workers and complete, none fails; healed, it serves the model";
  }

  @Override
  public void run(Run run) {
    Map<String, Long> before = run.workerProcesses("restart");
    if (before.isEmpty()) {
      return;
    }
    String victim = new ArrayList<>(before.keySet()).get(ThreadLocalRandom.current().nextInt(before.size()));
    String region = victim.substring(0, victim.indexOf('-') + 1);
    Instant start = Instant.now();
    JsonObject corrupted = run.mesh().corruptModel(MODEL, true);
    run.measure("corrupted_files", corrupted.getJsonArray("files").size());
    try {
      run.mesh().signalWorker(victim, "KILL");
      Optional<String> replacement = run.newWorker(region, before, START_TIMEOUT);
      run.measure("replacement_started_s", replacement.isPresent() ? Run.seconds(start, Instant.now()) : -1);
      if (!run.check("a worker restarts onto the corrupted files", replacement.isPresent(), victim + " killed; "
          + replacement.map(id -> id + " started").orElse("no replacement within " + START_TIMEOUT.toSeconds() + " s"))) {
        return;
      }
      broken = replacement.get();
      Optional<String> tripped = run.await(run.duration().plusSeconds(120), () -> observe(run) ? seen.toString() : null);
      run.measure("breaker_open_s", tripped.isPresent() ? Run.seconds(start, Instant.now()) : -1);
      Instant until = Instant.now().plus(run.duration()); // the load runs on with the broken worker in the pool
      run.await(run.duration().plusSeconds(30), () -> {
        observe(run);
        return Instant.now().isAfter(until) ? "" : null;
      });
      run.check("a breaker opens (the worker's or the model's)", tripped.isPresent(), tripped.isPresent()
          ? "seen under the fault: " + seen : "no breaker of " + broken + " or " + MODEL + " left closed within "
              + run.duration().plusSeconds(120).toSeconds() + " s");
    } finally {
      run.mesh().corruptModel(MODEL, false);
      healed = Instant.now();
      run.window(start, healed);
    }
    Optional<String> serving = run.await(RECOVERY_TIMEOUT, () -> {
      observe(run); // a tier shed by the global breaker may outlast the fault
      return completedOn(run, broken, healed);
    });
    run.measure("recovered_s", serving.isPresent() ? Run.seconds(healed, Instant.now()) : -1);
    run.measure("model_breaker_opened", seen.stream().anyMatch(x -> x.startsWith("model ")) ? 1 : 0);
    run.measure("tiers_shed", seen.stream().filter(x -> x.startsWith("shed ")).count());
    run.check("healed, the worker loads the model and serves it", serving.isPresent(),
        serving.orElse(broken + " completed no request of " + MODEL + " within " + RECOVERY_TIMEOUT.toSeconds()
            + " s of the heal"));
  }

  @Override
  public void verify(Run run, Ledger.Findings all) {
    if (broken == null) {
      return;
    }
    List<String> refused = new ArrayList<>();
    List<String> notElsewhere = new ArrayList<>();
    for (String id : run.acknowledgedDuringFault()) {
      JsonObject view = all.finals().get(id);
      ChaosHttp region = view == null ? null : run.mesh().region(view.getString("region"));
      ChaosHttp.Answer events = region == null ? null : region.get("/regional/v1/generations/" + id + "/events");
      if (events == null || events.status() != 200 || !events.body().contains("model_load_failed")) {
        continue;
      }
      refused.add(id);
      String completedAt = view.getString("completed_at");
      boolean afterHeal = completedAt != null && Instant.parse(completedAt).isAfter(healed);
      if (!"completed".equals(view.getString("status")) || broken.equals(view.getString("worker")) && !afterHeal) {
        notElsewhere.add(id + " (" + view.getString("status") + " on " + view.getString("worker") + ")");
      }
    }
    run.measure("requests_refused_model_load_failed", refused.size());
    run.check("the broken worker refused requests of the model (model_load_failed)", !refused.isEmpty(),
        refused.size() + " requests submitted under the fault were refused at least once");
    run.check("refused requests retried on other workers and completed", notElsewhere.isEmpty(),
        notElsewhere.isEmpty() ? refused.size() + " of " + refused.size() + " completed elsewhere" : notElsewhere.toString());
  }

  /**
   * Reads every region's {@code /internal/ops} and notes what is tripped ({@code worker W open},
   * {@code model M half_open}, {@code shed relax}); true when a breaker of {@code broken} or
   * {@link #MODEL} is open or half-open now.
   */
  private boolean observe(Run run) {
    boolean tripped = false;
    for (String region : run.mesh().regionNames()) {
      ChaosHttp.Answer ops = run.mesh().region(region).get("/internal/ops");
      JsonObject breakers = ops.status() == 200 ? ops.json().getJsonObject("breakers", new JsonObject()) : new JsonObject();
      String workerState = breakers.getJsonObject("workers", new JsonObject()).getString(broken);
      String modelState = breakers.getJsonObject("models", new JsonObject()).getString(MODEL);
      if (workerState != null && TRIPPED.contains(workerState)) {
        seen.add("worker " + broken + " " + workerState);
        tripped = true;
      }
      if (modelState != null && TRIPPED.contains(modelState)) {
        seen.add("model " + MODEL + " " + modelState);
        tripped = true;
      }
      breakers.getJsonObject("global", new JsonObject()).getJsonArray("shed_tiers", new io.vertx.core.json.JsonArray())
          .forEach(tier -> seen.add("shed " + tier));
    }
    return tripped;
  }

  /** A recent request of the load that completed on {@code worker} after {@code since}; null if none yet. */
  private static String completedOn(Run run, String worker, Instant since) {
    List<Load.Submission> recent = run.load().submissions().stream().filter(Load.Submission::acknowledged).toList();
    for (Load.Submission s : recent.subList(Math.max(0, recent.size() - 24), recent.size())) {
      ChaosHttp.Answer view = run.mesh().user(s.user()).get("/v1/generations/" + s.id());
      String completedAt = view.status() == 200 ? view.json().getString("completed_at") : null;
      if (completedAt != null && worker.equals(view.json().getString("worker")) && Instant.parse(completedAt).isAfter(since)) {
        return worker + " completed " + s.id();
      }
    }
    return null;
  }
}
