package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One chaos experiment: under the steady load the runner keeps up, it injects its fault, checks the
 * design's expected outcome and heals what it broke; the runner then checks the invariants.
 */
public interface Experiment {
  String name();

  /** The expected outcome, as docs/chaos.md states it. */
  String expected();

  /** Injects the fault, observes, heals; records checks and measures on {@code run}. */
  void run(Run run);

  /** Checks what only the final states show, once the load stopped and every request ended ({@code all}). */
  default void verify(Run run, Ledger.Findings all) {}

  /** One validation: its name, whether it held, what was seen. */
  record Check(String name, boolean passed, String detail) {
    JsonObject json() {
      return new JsonObject().put("name", name).put("passed", passed).put("detail", detail);
    }
  }

  /** What an experiment works with: the mesh, the load on it, how long the fault lasts; and what it found. */
  final class Run {
    private final MeshUnderTest mesh;
    private final Load load;
    private final Duration duration;
    private final List<Check> checks = new ArrayList<>();
    private final Map<String, Double> measures = new LinkedHashMap<>();
    private java.time.Instant faultStart;
    private java.time.Instant faultEnd;

    Run(MeshUnderTest mesh, Load load, Duration duration) {
      this.mesh = mesh;
      this.load = load;
      this.duration = duration;
    }

    public MeshUnderTest mesh() {
      return mesh;
    }

    public Load load() {
      return load;
    }

    /** How long the fault is held (or the pressure kept up). */
    public Duration duration() {
      return duration;
    }

    /** Marks when the fault was in place. */
    public void window(java.time.Instant start, java.time.Instant end) {
      faultStart = start;
      faultEnd = end;
    }

    /** The ids of the requests acknowledged while the fault was in place (none if no window was marked). */
    public java.util.Set<String> acknowledgedDuringFault() {
      return faultStart == null ? java.util.Set.of() : load.submissions().stream()
          .filter(s -> s.acknowledged() && !s.at().isBefore(faultStart) && s.at().isBefore(faultEnd))
          .map(Load.Submission::id).collect(java.util.stream.Collectors.toSet());
    }

    /** The mesh's worker processes (id → pid), checked to be there to {@code act} on ("kill", "isolate"...). */
    public Map<String, Long> workerProcesses(String act) {
      Map<String, Long> workers = mesh.workers();
      check("worker processes to " + act, !workers.isEmpty(), workers.isEmpty()
          ? "none: workers must be processes ('genmesh up --autoscale --chaos')" : workers.keySet().toString());
      return workers;
    }

    /** A worker process of the region whose ids start with {@code prefix} that is none of {@code before}; polled up to {@code timeout}. */
    public java.util.Optional<String> newWorker(String prefix, Map<String, Long> before, Duration timeout) {
      java.util.Set<Long> oldPids = java.util.Set.copyOf(before.values());
      return await(timeout, () -> mesh.workers().entrySet().stream()
          .filter(w -> w.getKey().startsWith(prefix) && !oldPids.contains(w.getValue())).map(Map.Entry::getKey)
          .findFirst().orElse(null));
    }

    public boolean check(String name, boolean passed, String detail) {
      checks.add(new Check(name, passed, detail));
      return passed;
    }

    public void measure(String name, double value) {
      measures.put(name, value);
    }

    public List<Check> checks() {
      return List.copyOf(checks);
    }

    public Map<String, Double> measures() {
      return Map.copyOf(measures);
    }

    /** Polls {@code probe} every 250 ms until it gives a value; empty after {@code timeout}. */
    public <T> java.util.Optional<T> await(Duration timeout, Supplier<T> probe) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        T value = probe.get();
        if (value != null) {
          return java.util.Optional.of(value);
        }
        Ledger.pause(250);
      }
      return java.util.Optional.empty();
    }

    /** A recent request of the load that one of {@code workers} runs ({@code generatingOnly}) or ran; polled up to {@code timeout}. */
    public java.util.Optional<JsonObject> workedOn(java.util.Set<String> workers, boolean generatingOnly, Duration timeout) {
      return await(timeout, () -> {
        List<Load.Submission> recent = load.submissions().stream().filter(Load.Submission::acknowledged).toList();
        for (Load.Submission s : recent.subList(Math.max(0, recent.size() - 24), recent.size())) {
          ChaosHttp.Answer view = mesh.user(s.user()).get("/v1/generations/" + s.id());
          if (view.status() == 200 && (!generatingOnly || "generating".equals(view.json().getString("status")))
              && view.json().getString("worker") != null && workers.contains(view.json().getString("worker"))) {
            return view.json();
          }
        }
        return null;
      });
    }

    /** The edge view of {@code id} once it is terminal (asked as load user {@code user}); empty after {@code timeout}. */
    public java.util.Optional<JsonObject> terminal(String id, int user, Duration timeout) {
      return await(timeout, () -> {
        ChaosHttp.Answer view = mesh.user(user).get("/v1/generations/" + id);
        String status = view.status() == 200 ? view.json().getString("status") : null;
        return "completed".equals(status) || "failed".equals(status) || "cancelled".equals(status) ? view.json() : null;
      });
    }

    /** Seconds from {@code from} to {@code to} (ISO instants or now). */
    public static double seconds(java.time.Instant from, java.time.Instant to) {
      return Duration.between(from, to).toMillis() / 1000.0;
    }

    public void hold(Duration time) {
      Ledger.pause(time.toMillis());
    }

    JsonArray checksJson() {
      JsonArray all = new JsonArray();
      checks.forEach(c -> all.add(c.json()));
      return all;
    }
  }
}
