package dev.genmesh.failover;

import dev.genmesh.protocol.failover.RegionDecision;
import io.vertx.core.json.JsonArray;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** The last decisions a participant took, newest last, bounded (served on {@code /failover/decisions}). */
public final class DecisionHistory {
  public static final int KEPT = 200;
  private final Deque<RegionDecision> decisions = new ArrayDeque<>();

  public synchronized void add(RegionDecision decision) {
    decisions.addLast(decision);
    while (decisions.size() > KEPT) {
      decisions.removeFirst();
    }
  }

  public synchronized List<RegionDecision> all() {
    return List.copyOf(decisions);
  }

  public JsonArray toJson() {
    JsonArray array = new JsonArray();
    all().forEach(d -> array.add(d.toJson()));
    return array;
  }
}
