package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady load through the edge: {@code rate} submits a second, spread over the load users and the
 * three tiers in turn, each sent from a pool so that a slow answer does not slow the rate. Every
 * answer is kept; a {@code 202} puts the request under the invariants.
 */
public final class Load implements AutoCloseable {
  public static final List<String> TIERS = List.of("turbo", "fast", "relax");

  /** One submit and its answer. */
  public record Submission(Instant at, String tier, int user, int status, String id) {
    public boolean acknowledged() {
      return status == 202;
    }
  }

  private final MeshUnderTest mesh;
  private final int steps;
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(daemon("chaos-load-ticker"));
  private final ExecutorService senders = Executors.newFixedThreadPool(16, daemon("chaos-load-sender"));
  private final List<Submission> submissions = new CopyOnWriteArrayList<>();
  private final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private volatile double rate;
  private volatile double credit;

  /** @param steps denoising steps of each request (the bundled model: about steps × 10 ms at 512 px here) */
  public Load(MeshUnderTest mesh, double rate, int steps) {
    this.mesh = mesh;
    this.rate = rate;
    this.steps = steps;
    ticker.scheduleAtFixedRate(this::tick, 0, 50, TimeUnit.MILLISECONDS);
  }

  /** Changes the submits per second from now on. */
  public void rate(double perSecond) {
    rate = perSecond;
  }

  public double rate() {
    return rate;
  }

  private void tick() {
    credit += rate / 20.0;
    while (credit >= 1) {
      credit -= 1;
      long n = sequence.getAndIncrement();
      senders.execute(() -> submit(n));
    }
  }

  private void submit(long n) {
    submit(TIERS.get((int) (n % TIERS.size())), (int) ((n / TIERS.size()) % mesh.users()), steps, 512, n);
  }

  /** One submit of the experiment's own (e.g. a long request to catch mid-run), kept with the load's. */
  public Submission submit(String tier, int user, int requestSteps, int size, long seed) {
    Instant at = Instant.now();
    ChaosHttp.Answer answer = mesh.user(user).post("/v1/generations",
        spec("chaos load " + seed, tier, requestSteps, size, seed));
    String id = answer.status() == 202 ? answer.json().getString("id") : null;
    Submission submission = new Submission(at, tier, user, answer.status(), id);
    submissions.add(submission);
    statuses.computeIfAbsent(answer.status(), s -> new AtomicInteger()).incrementAndGet();
    return submission;
  }

  static JsonObject spec(String prompt, String tier, int steps, int size, long seed) {
    return new JsonObject().put("prompt", prompt).put("model", "genmesh-tiny").put("tier", tier)
        .put("width", size).put("height", size).put("steps", steps).put("seed", seed).put("batch_size", 1);
  }

  public List<Submission> submissions() {
    return List.copyOf(submissions);
  }

  /** Answers by HTTP status (0: no answer). */
  public Map<Integer, Integer> statuses() {
    Map<Integer, Integer> counts = new java.util.TreeMap<>();
    statuses.forEach((status, count) -> counts.put(status, count.get()));
    return counts;
  }

  /** Stops submitting and waits for the submits in flight. */
  @Override
  public void close() {
    ticker.shutdownNow();
    senders.shutdown();
    try {
      senders.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return task -> {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * The load's users on a mesh with a user database: adds {@code chaos-1..count} (an existing one is
   * kept) and issues each a key for every tier, through the admin API; the keys.
   */
  public static List<String> makeUsers(ChaosHttp admin, int count) {
    JsonArray tiers = new JsonArray(TIERS);
    List<String> keys = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String user = "chaos-" + i;
      ChaosHttp.Answer added = admin.post("/v1/admin/users", new JsonObject().put("id", user).put("tiers", tiers));
      if (added.status() != 201 && added.status() != 409) {
        throw new IllegalStateException("could not add user " + user + ": HTTP " + added.status() + " " + added.body());
      }
      ChaosHttp.Answer key = admin.post("/v1/admin/keys", new JsonObject().put("user", user).put("tiers", tiers));
      if (key.status() != 201) {
        throw new IllegalStateException("could not issue a key to " + user + ": HTTP " + key.status() + " " + key.body());
      }
      keys.add(key.json().getString("key"));
    }
    return keys;
  }
}
