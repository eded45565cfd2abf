package dev.genmesh.bench.queue;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * The region node's group-commit counters (RegionMetrics' {@code genmesh.log.*}), read from its
 * registry around the measured round: transactions and statements per request, and which
 * statements committed in a transaction of their own, by kind. Counters a node does not have
 * (an older commit) are left out.
 */
final class GroupCommitStats {
  private static final String[] TOTALS = {"genmesh.log.transactions", "genmesh.log.statements", "genmesh.log.lingered"};
  private static final String ALONE = "genmesh.log.transactions.alone";

  private GroupCommitStats() {}

  static Map<String, Double> snapshot(MeterRegistry meters) {
    Map<String, Double> out = new TreeMap<>();
    for (String name : TOTALS) {
      FunctionCounter counter = meters.find(name).functionCounter();
      if (counter != null) {
        out.put(name, counter.count());
      }
    }
    for (FunctionCounter counter : meters.find(ALONE).functionCounters()) {
      out.put(ALONE + ":" + counter.getId().getTag("kind"), counter.count());
    }
    return out;
  }

  static JsonObject perRequest(Map<String, Double> before, Map<String, Double> after, int requests) {
    JsonObject out = new JsonObject();
    JsonObject alone = new JsonObject();
    after.forEach((name, value) -> {
      double per = Math.round((value - before.getOrDefault(name, 0.0)) / requests * 1000.0) / 1000.0;
      if (name.startsWith(ALONE + ":")) {
        if (per > 0) {
          alone.put(name.substring(ALONE.length() + 1), per);
        }
      } else {
        out.put(name.substring("genmesh.log.".length()) + "_per_req", per);
      }
    });
    return out.put("alone_per_req", alone);
  }
}
