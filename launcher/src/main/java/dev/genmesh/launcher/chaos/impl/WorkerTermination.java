package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code worker-termination}: SIGKILL a worker process, preferably one generating a request. The
 * request is reassigned and completes elsewhere within 30 s of the kill, the region's autoscaler
 * starts a replacement process and the replacement serves (the warm pool is back).
 */
final class WorkerTermination implements Experiment {
  static final Duration MAX_IMPACT = Duration.ofSeconds(30);
  /** The marker request: the bundled model's most steps at its largest size, seconds on a CPU (caught mid-run). */
  static final int MARKER_STEPS = 50;
  static final int MARKER_SIZE = 1024;

  @Override
  public String name() {
    return "worker-termination";
  }

  @Override
  public String expected() {
    return "the killed worker's request is reassigned and completes within 30 s, no request fails, a replacement"
        + " process starts and serves";
  }

  @Override
  public void run(Run run) {
    Map<String, Long> before = run.workerProcesses("kill");
    if (before.isEmpty()) {
      return;
    }
    // A long turbo request of our own, so that the kill surely lands mid-generation (the load's are short).
    Load.Submission marker = run.load().submit("turbo", 0, MARKER_STEPS, MARKER_SIZE, System.nanoTime());
    Optional<JsonObject> running = marker.acknowledged() ? run.await(Duration.ofSeconds(60), () -> {
      var view = run.mesh().user(0).get("/v1/generations/" + marker.id());
      return view.status() == 200 && "generating".equals(view.json().getString("status")) ? view.json() : null;
    }) : Optional.empty();
    String victim = running.map(v -> v.getString("worker"))
        .orElse(new ArrayList<>(before.keySet()).get(ThreadLocalRandom.current().nextInt(before.size())));
    String region = victim.substring(0, victim.indexOf('-') + 1);
    Instant killed = Instant.now();
    run.mesh().signalWorker(victim, "KILL");

    running.ifPresent(view -> {
      Optional<JsonObject> end = run.terminal(view.getString("id"), 0, MAX_IMPACT.plusSeconds(90));
      double impact = end.map(e -> Run.seconds(killed, Instant.parse(e.getString("completed_at", Instant.now().toString()))))
          .orElse(-1.0);
      run.measure("impact_s", impact);
      run.check("its request reassigned and completed", end.isPresent() && "completed".equals(end.get().getString("status"))
          && !victim.equals(end.get().getString("worker")), end.map(JsonObject::encode).orElse("not terminal"));
      run.check("impact < 30 s", impact >= 0 && impact < MAX_IMPACT.toSeconds(), impact + " s from the kill to its completion");
    });
    if (running.isEmpty()) {
      run.check("a request was running on the victim", false, "the marker request (" + marker.status() + ") was not"
          + " seen generating within 60 s");
    }
    Optional<String> replacement = run.newWorker(region, before, Duration.ofSeconds(180));
    run.measure("replacement_started_s", replacement.isPresent() ? Run.seconds(killed, Instant.now()) : -1);
    run.check("a replacement process starts", replacement.isPresent(), replacement.orElse("none within 180 s"));
    Optional<String> serving = replacement.flatMap(id -> run.await(Duration.ofSeconds(180), () ->
        run.workedOn(Set.of(id), false, Duration.ofSeconds(1)).map(v -> id).orElse(null)));
    run.measure("warm_pool_restored_s", serving.isPresent() ? Run.seconds(killed, Instant.now()) : -1);
    run.check("the replacement serves (warm pool restored)", serving.isPresent(), serving.map(id -> id + " ran a request")
        .orElse("the replacement ran no request within 180 s"));
  }
}
