package dev.genmesh.launcher.fault;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Several users submitting through the edge at a steady pace, each in turn in every tier, until
 * stopped: every answer is kept (a {@code 202} with the moment it came), so that a test can say
 * which submits failed and when.
 */
final class SteadyLoad implements AutoCloseable {
  private static final List<String> TIERS = List.of("turbo", "fast", "relax");

  /** One submit's answer, with when it was sent. */
  record Submit(String user, String tier, Instant at, MeshClient.Answer answer) {
    String id() {
      return answer.status() == 202 ? answer.json().getString("id") : null;
    }
  }

  private final List<Submit> submits = new CopyOnWriteArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> users = new CopyOnWriteArrayList<>();

  /** Starts {@code userCount} users, each submitting every {@code pause} a request of {@code steps} steps. */
  SteadyLoad(MeshClient edge, int userCount, Duration pause, int steps) {
    for (int u = 0; u < userCount; u++) {
      String user = "user-" + u;
      Thread thread = new Thread(() -> {
        long n = 0;
        while (running.get()) {
          String tier = TIERS.get((int) (n % TIERS.size()));
          Instant at = Instant.now();
          MeshClient.Answer answer = edge.submit(MeshClient.spec(user + " asks for a harbour at night " + n, steps, 512,
              n).put("tier", tier));
          submits.add(new Submit(user, tier, at, answer));
          n++;
          Sleeps.pause(pause);
        }
      }, "load-" + user);
      thread.setDaemon(true);
      users.add(thread);
      thread.start();
    }
  }

  List<Submit> submits() {
    return List.copyOf(submits);
  }

  /** The ids that got a {@code 202}. */
  List<String> acknowledged() {
    return submits.stream().map(Submit::id).filter(java.util.Objects::nonNull).toList();
  }

  List<Submit> failed() {
    return submits.stream().filter(s -> s.answer().status() != 202).toList();
  }

  /** Stops every user after its submit in flight; returns once they are done. */
  @Override
  public void close() {
    running.set(false);
    for (Thread user : users) {
      try {
        user.join(Duration.ofSeconds(30).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
