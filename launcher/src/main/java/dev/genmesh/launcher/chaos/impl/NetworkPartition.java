package dev.genmesh.launcher.chaos.impl;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * {@code network-partition} of a set of workers: half of the worker processes (at least one) are
 * frozen with SIGSTOP for the experiment's duration, which cuts them off from their cluster, their
 * region and the store exactly as a partition would (no heartbeats, no lease renewals, no answers),
 * then thawed with SIGCONT. Their regions notice the silence, re-queue what they held, the other
 * workers (and the autoscalers' replacements) serve meanwhile; once healed, a thawed worker's stale
 * results are refused and nothing completes twice. A partition of the network itself (iptables,
 * a NetworkPolicy) needs root or a cluster: docs/chaos.md.
 */
final class NetworkPartition implements Experiment {
  @Override
  public String name() {
    return "network-partition";
  }

  @Override
  public String expected() {
    return "half the workers cut off (SIGSTOP): requests routed around them, none lost or done twice; they rejoin when healed";
  }

  @Override
  public void run(Run run) {
    Map<String, Long> workers = run.workerProcesses("isolate");
    if (workers.isEmpty()) {
      return;
    }
    List<String> ids = new ArrayList<>(workers.keySet());
    Collections.shuffle(ids);
    List<String> isolated = ids.subList(0, Math.max(1, ids.size() / 2));
    Instant start = Instant.now();
    isolated.forEach(id -> run.mesh().signalWorker(id, "STOP"));
    try {
      run.hold(run.duration());
    } finally {
      isolated.forEach(id -> run.mesh().signalWorker(id, "CONT"));
    }
    Instant healed = Instant.now();
    long servedDuring = run.load().submissions().stream().filter(s -> s.acknowledged() && s.at().isAfter(start)
            && s.at().isBefore(healed)).limit(40)
        .map(s -> run.mesh().user(s.user()).get("/v1/generations/" + s.id()))
        .filter(a -> a.status() == 200 && a.json().getString("completed_at") != null
            && Instant.parse(a.json().getString("completed_at")).isBefore(healed))
        .count();
    run.measure("isolated_workers", isolated.size());
    run.measure("completed_during_partition", servedDuring);
    run.check("requests routed around the isolated workers", servedDuring > 0 || ids.size() == isolated.size(),
        servedDuring + " requests submitted during the partition completed before it healed (isolated " + isolated
            + " of " + ids + ")");
  }
}
