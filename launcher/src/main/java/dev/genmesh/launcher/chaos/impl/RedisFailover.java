package dev.genmesh.launcher.chaos.impl;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code redis-failover}: SIGKILL the queues' Redis master. The sentinel promotes the replica, the
 * regions follow it and rebuild their queues from the request log; queue operations resume within
 * 60 s (goal 10 s), nothing acknowledged is lost. The killed server is started again as a replica at
 * the end, so that the next run finds the pair whole.
 */
final class RedisFailover implements Experiment {
  @Override
  public String name() {
    return "redis-failover";
  }

  @Override
  public String expected() {
    return "Redis master SIGKILLed: the sentinel promotes the replica, queue operations resume within 60 s, nothing lost";
  }

  @Override
  public void run(Run run) {
    int master = run.mesh().targets().getJsonObject("redis").getInteger("master_port");
    Instant killed = Instant.now();
    run.mesh().killRedisMaster();
    try {
      Optional<Integer> promoted = run.await(Duration.ofSeconds(90), () -> {
        int now = run.mesh().targets().getJsonObject("redis").getInteger("master_port");
        return now != master ? now : null;
      });
      double promotion = promoted.map(p -> Run.seconds(killed, Instant.now())).orElse(-1.0);
      run.measure("promotion_s", promotion);
      run.check("the sentinel promotes the replica", promoted.isPresent(), promoted.map(p -> "master now on port " + p)
          .orElse("still " + master + " after 90 s"));
      Optional<Instant> resumed = run.await(Duration.ofSeconds(90), () -> firstAssignedAfter(run, killed));
      double resume = resumed.map(at -> Run.seconds(killed, at)).orElse(-1.0);
      run.measure("queue_resumed_s", resume);
      run.check("queue operations resume within 60 s", resume >= 0 && resume < 60, resume + " s to the first request"
          + " submitted after the kill being assigned");
    } finally {
      run.mesh().restartRedis();
    }
  }

  /** When the first request submitted after {@code after} was assigned to a worker (it went through the queue). */
  private static Instant firstAssignedAfter(Run run, Instant after) {
    return run.load().submissions().stream().filter(s -> s.acknowledged() && s.at().isAfter(after)).limit(12)
        .map(s -> run.mesh().user(s.user()).get("/v1/generations/" + s.id()))
        .filter(a -> a.status() == 200 && a.json().getString("assigned_at") != null)
        .map(a -> Instant.parse(a.json().getString("assigned_at"))).min(Instant::compareTo).orElse(null);
  }
}
