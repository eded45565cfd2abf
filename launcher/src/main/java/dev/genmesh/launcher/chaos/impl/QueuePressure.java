package dev.genmesh.launcher.chaos.impl;

import java.time.Duration;
import java.time.Instant;

/**
 * {@code queue-pressure}: ten times the load for the experiment's duration. The autoscalers start
 * workers (scale-up triggers), turbo waits less than relax (tier priorities hold), and the mesh
 * stays ready throughout (no cascading failure: shedding answers {@code 503}/{@code 429}, never a
 * dead edge); what was acknowledged completes.
 */
final class QueuePressure implements Experiment {
  static final int FACTOR = 10;

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
    Instant start = Instant.now();
    run.load().rate(base * FACTOR);
    try {
      while (Duration.between(start, Instant.now()).compareTo(run.duration()) < 0) {
        most = Math.max(most, run.mesh().workers().size());
        notReady += run.mesh().edgeReady() ? 0 : 1;
        run.hold(Duration.ofSeconds(2));
      }
    } finally {
      run.load().rate(base);
    }
    run.window(start, Instant.now());
    run.measure("workers_before", before);
    run.measure("workers_most", most);
    run.check("scale-up triggered", most > before, before + " worker processes before, " + most + " at most");
    run.check("the edge stays ready", notReady == 0, notReady + " readiness probes failed under pressure");
  }

  @Override
  public void verify(Run run, Ledger.Findings all) {
    Ledger.Findings findings = all.only(run.acknowledgedDuringFault());
    double turbo = Percentiles.p(findings.waitsMs("turbo"), 50);
    double relax = Percentiles.p(findings.waitsMs("relax"), 50);
    run.measure("turbo_wait_p50_ms", turbo);
    run.measure("relax_wait_p50_ms", relax);
    run.check("tier priorities hold (turbo p50 wait <= relax p50 wait)", turbo >= 0 && relax >= 0 && turbo <= relax,
        "turbo " + turbo + " ms, relax " + relax + " ms");
  }
}
