package dev.genmesh.launcher.chaos.impl;

import java.time.Duration;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * {@code queue-pressure}: ten times the load for the experiment's duration. The autoscalers start
 * workers (scale-up triggers), turbo waits less than relax (tier priorities hold), and the mesh
 * stays ready throughout (no cascading failure: shedding answers {@code 503}/{@code 429}, never a
 * dead edge); what was acknowledged completes.
 */
final class QueuePressure implements Experiment {
  static final int FACTOR = 10;
  /** The scale-up triggers look at a window (30 s by default) and then a cooldown: pressure shorter than this shows nothing. */
  static final Duration LEAST = Duration.ofSeconds(60);

  @Override
  public String name() {
    return "queue-pressure";
  }

  @Override
  public String expected() {
    return "10x traffic: workers scale up, turbo waits less than relax, the edge stays ready, nothing acknowledged lost";
  }

  @Override
  public void run(Run run) {
    int before = run.mesh().workers().size();
    double base = run.load().rate();
    int most = before;
    int notReady = 0;
    double scaledAfter = -1;
    Instant start = Instant.now();
    Duration pressure = run.duration().compareTo(LEAST) < 0 ? LEAST : run.duration();
    run.load().rate(base * FACTOR);
    try {
      while (Duration.between(start, Instant.now()).compareTo(pressure) < 0) {
        int now = run.mesh().workers().size();
        if (now > before && scaledAfter < 0) {
          scaledAfter = Run.seconds(start, Instant.now());
        }
        most = Math.max(most, now);
        notReady += run.mesh().edgeReady() ? 0 : 1;
        run.hold(Duration.ofSeconds(2));
      }
    } finally {
      run.load().rate(base);
    }
    run.window(start, Instant.now());
    run.measure("workers_before", before);
    run.measure("workers_most", most);
    run.measure("scale_up_after_s", scaledAfter);
    run.check("the edge stays ready", notReady == 0, notReady + " readiness probes failed under pressure");
  }

  @Override
  public void verify(Run run, Ledger.Findings all) {
    Ledger.Findings findings = all.only(run.acknowledgedDuringFault());
    double turbo = Ledger.percentile(findings.waitsMs("turbo"), 50);
    double relax = Ledger.percentile(findings.waitsMs("relax"), 50);
    JsonObject targets = run.mesh().targets().getJsonObject("wait_targets_ms", new JsonObject());
    StringBuilder over = new StringBuilder();
    for (String tier : Load.TIERS) {
      double p95 = Ledger.percentile(findings.waitsMs(tier), 95);
      run.measure(tier + "_wait_p95_ms", p95);
      if (targets.getLong(tier) != null && p95 > targets.getLong(tier)) {
        over.append(tier).append(" p95 ").append(p95).append(" ms > ").append(targets.getLong(tier)).append(" ms; ");
      }
    }
    boolean scaled = run.measures().getOrDefault("workers_most", 0.0) > run.measures().getOrDefault("workers_before", 0.0);
    run.check("scale-up triggered, or every tier within its wait target (no trigger needed)", scaled || over.isEmpty(),
        (scaled ? "scaled up" : "no scale-up") + (over.isEmpty() ? "; every tier's p95 wait within its target" : "; " + over));
    run.measure("turbo_wait_p50_ms", turbo);
    run.measure("relax_wait_p50_ms", relax);
    run.check("tier priorities hold (turbo p50 wait <= relax p50 wait)", turbo >= 0 && relax >= 0 && turbo <= relax,
        "turbo " + turbo + " ms, relax " + relax + " ms");
  }
}
