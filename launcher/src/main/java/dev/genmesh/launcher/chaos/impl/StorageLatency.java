package dev.genmesh.launcher.chaos.impl;

import java.time.Instant;

/**
 * {@code storage-latency}: +500 ms on every call to the image store (the {@code objects} fault proxy, or every
 * region's {@code objects-<region>} with {@code --region-processes}) for the experiment's duration. Generation is not blocked by uploads (workers take their next
 * request while images upload), every image is delivered; the measure is the added end-to-end
 * latency of the requests submitted under the delay.
 */
final class StorageLatency implements Experiment {
  static final long DELAY_MS = 500;

  @Override
  public String name() {
    return "storage-latency";
  }

  @Override
  public String expected() {
    return "+500 ms per image-store call: generation goes on, every image is delivered, latency grows by the uploads only";
  }

  @Override
  public void run(Run run) {
    // the shared store's proxy, or each region's own store's with --region-processes (objects-<region>)
    java.util.List<String> stores = run.mesh().targets().getJsonObject("proxies").fieldNames().stream()
        .filter(name -> name.equals("objects") || name.startsWith("objects-")).sorted().toList();
    if (!run.check("an object store fault proxy", !stores.isEmpty(), "proxies " + stores)) {
      return;
    }
    Instant start = Instant.now();
    stores.forEach(name -> run.mesh().proxy(name, DELAY_MS, false));
    try {
      run.hold(run.duration());
    } finally {
      stores.forEach(name -> run.mesh().proxy(name, 0, false));
    }
    run.window(start, Instant.now());
  }

  @Override
  public void verify(Run run, Ledger.Findings all) {
    java.util.Set<String> during = run.acknowledgedDuringFault();
    Ledger.Findings slow = all.only(during);
    long[] latencies = slow.latenciesMs(null);
    run.measure("requests_under_delay", during.size());
    run.measure("p50_latency_under_delay_ms", Ledger.percentile(latencies, 50));
    run.check("requests submitted under the delay completed with their images", !during.isEmpty()
        && slow.count("completed") == during.size() && slow.violations().isEmpty(),
        slow.count("completed") + " of " + during.size() + " completed; " + slow.violations());
    long generating = slow.finals().values().stream().filter(v -> v.getString("worker") != null).count();
    run.check("generation not blocked (requests ran while uploads were slow)", generating > 0,
        generating + " requests ran under the delay");
  }
}
