package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ReplicationConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What {@code genmesh up} tells the user about request-log replication between its regions. */
final class ReplicationPlan {
  private ReplicationPlan() {}

  static String describe(GenmeshConfig config) {
    ReplicationConfig replication = config.replication();
    if (!replication.enabled()) {
      return "request-log replication is off (replication.enabled: false): a lost region's requests wait for it";
    }
    List<String> links = new ArrayList<>();
    List<String> alone = new ArrayList<>();
    for (String region : config.regions().keySet()) {
      replication.peerOf(region).filter(config.regions()::containsKey)
          .ifPresentOrElse(peer -> links.add(region + " -> " + peer), () -> alone.add(region));
    }
    StringBuilder out = new StringBuilder();
    if (!links.isEmpty()) {
      out.append("request-log replication (").append(replication.mode().name().toLowerCase(Locale.ROOT))
          .append(", PostgreSQL logical replication): ").append(String.join(", ", links));
    }
    if (!alone.isEmpty()) {
      out.append(out.length() == 0 ? "" : "; ").append(String.join(", ", alone))
          .append(alone.size() == 1 ? " has" : " have").append(" no peer region running: no replication, no adoption")
          .append(" if it is lost");
    }
    return out.toString();
  }
}
