package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The invariant check that ends every experiment, over every request the load got {@code 202} for
 * (the logic of the fault tests' Invariants, docs/architecture.md "Invariants"): I1, each reaches a
 * terminal state, a failure with a code and a message; I3, a completed request has one
 * {@code completed} event (from its region's stored events, when the control API names the region),
 * its {@code batch_size} images, each served as a PNG; and retries are bounded (attempt at most
 * {@code queue.max_retries + 1}).
 */
public final class Ledger {
  private static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

  /** What the check found: the final views, and each violation in a line. */
  public record Findings(Map<String, JsonObject> finals, List<String> lost, List<String> violations) {
    /** The same findings about {@code ids} only. */
    public Findings only(java.util.Set<String> ids) {
      Map<String, JsonObject> some = new LinkedHashMap<>();
      finals.forEach((id, view) -> {
        if (ids.contains(id)) {
          some.put(id, view);
        }
      });
      return new Findings(some, lost.stream().filter(ids::contains).toList(),
          violations.stream().filter(v -> ids.stream().anyMatch(v::contains)).toList());
    }

    public long count(String status) {
      return finals.values().stream().filter(v -> status.equals(v.getString("status"))).count();
    }

    /** End-to-end milliseconds (created to completed) of the completed requests of {@code tier}, sorted. */
    public long[] latenciesMs(String tier) {
      return finals.values().stream().filter(v -> "completed".equals(v.getString("status")))
          .filter(v -> tier == null || tier.equals(v.getString("tier")))
          .mapToLong(v -> Duration.between(Instant.parse(v.getString("created_at")),
              Instant.parse(v.getString("completed_at"))).toMillis()).sorted().toArray();
    }

    /** Milliseconds from created to (last) assigned of the requests of {@code tier}, sorted: their queue wait. */
    public long[] waitsMs(String tier) {
      return finals.values().stream().filter(v -> tier.equals(v.getString("tier")) && v.getString("assigned_at") != null)
          .mapToLong(v -> Duration.between(Instant.parse(v.getString("created_at")),
              Instant.parse(v.getString("assigned_at"))).toMillis()).sorted().toArray();
    }
  }

  private final MeshUnderTest mesh;

  public Ledger(MeshUnderTest mesh) {
    this.mesh = mesh;
  }

  /** Waits up to {@code timeout} for every acknowledged request to end, then checks the invariants. */
  public Findings check(List<Load.Submission> submissions, Duration timeout) {
    Map<String, Load.Submission> acknowledged = new LinkedHashMap<>();
    submissions.stream().filter(Load.Submission::acknowledged).forEach(s -> acknowledged.put(s.id(), s));
    Map<String, JsonObject> finals = new LinkedHashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (finals.size() < acknowledged.size() && System.nanoTime() < deadline) {
      for (Load.Submission s : acknowledged.values()) {
        if (!finals.containsKey(s.id())) {
          ChaosHttp.Answer answer = mesh.user(s.user()).get("/v1/generations/" + s.id());
          if (answer.status() == 200 && TERMINAL.contains(answer.json().getString("status"))) {
            finals.put(s.id(), answer.json());
          }
        }
      }
      if (finals.size() < acknowledged.size()) {
        pause(500);
      }
    }
    List<String> lost = acknowledged.keySet().stream().filter(id -> !finals.containsKey(id)).toList();
    List<String> violations = new ArrayList<>();
    int maxAttempts = mesh.maxAttempts();
    finals.forEach((id, view) -> violations.addAll(violations(id, view, acknowledged.get(id).user(), maxAttempts)));
    return new Findings(finals, lost, violations);
  }

  private List<String> violations(String id, JsonObject view, int user, int maxAttempts) {
    List<String> found = new ArrayList<>();
    String status = view.getString("status");
    if ("failed".equals(status)) {
      JsonObject error = view.getJsonObject("error");
      if (error == null || error.getString("code") == null || error.getString("message") == null) {
        found.add("I1: " + id + " failed without a code and a message");
      }
    }
    if (view.getInteger("attempt", 0) > maxAttempts) {
      found.add("retries: " + id + " ran " + view.getInteger("attempt") + " attempts (bound " + maxAttempts + ")");
    }
    ChaosHttp region = mesh.region(view.getString("region"));
    if (region != null) {
      ChaosHttp.Answer events = region.get("/regional/v1/generations/" + id + "/events");
      long completions = events.status() != 200 ? -1 : events.json().getJsonArray("events").stream()
          .filter(e -> "completed".equals(((JsonObject) e).getString("type"))).count();
      if (completions < 0) {
        found.add("I3: the events of " + id + " could not be read (HTTP " + events.status() + ")");
      } else if (completions != ("completed".equals(status) ? 1 : 0)) {
        found.add("I3: " + id + " (" + status + ") has " + completions + " completed events");
      }
    }
    if ("completed".equals(status)) {
      JsonArray images = view.getJsonArray("images", new JsonArray());
      int batch = view.getJsonObject("spec", new JsonObject()).getInteger("batch_size", 1);
      if (images.size() != batch || images.stream().distinct().count() != batch) {
        found.add("I3: " + id + " completed with " + images.size() + " images for a batch of " + batch);
      }
      for (Object path : images) {
        if (!Arrays.equals(mesh.user(user).head(String.valueOf(path), 4), PNG)) {
          found.add("I3: image " + path + " of " + id + " is not served as a PNG");
        }
      }
    }
    return found;
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The nearest-rank percentile of a sorted sample; -1 for an empty one. */
  static double percentile(long[] sorted, double percentile) {
    if (sorted.length == 0) {
      return -1;
    }
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
