package dev.genmesh.inference.impl;

import dev.genmesh.protocol.scaling.WarmupOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The order in which a starting worker loads its models, most wanted first.
 *
 * @param models every configured model once
 * @param reason the region's reason ({@code plan}, {@code demand}, ...), or {@code configured}
 *     when the region did not answer
 * @param family the model family the region's plan gave this worker, or null
 * @param ignored names the region's answer gave that this worker does not have
 */
public record LoadOrder(List<String> models, String reason, String family, List<String> ignored) {
  public static final String CONFIGURED = "configured";

  public LoadOrder {
    models = List.copyOf(models);
    ignored = List.copyOf(ignored);
  }

  /** The configured order (no answer from the region). */
  public static LoadOrder configured(List<String> configured) {
    return new LoadOrder(new ArrayList<>(new LinkedHashSet<>(configured)), CONFIGURED, null, List.of());
  }

  /**
   * The answer's order over the configured models: names it gives that are not configured are
   * ignored, configured ones it omits follow in configured order.
   */
  public static LoadOrder from(List<String> configured, WarmupOrder.Answer answer) {
    Set<String> have = new LinkedHashSet<>(configured);
    Set<String> order = new LinkedHashSet<>();
    List<String> ignored = new ArrayList<>();
    for (String name : answer.models()) {
      if (have.contains(name)) {
        order.add(name);
      } else {
        ignored.add(name);
      }
    }
    order.addAll(have);
    String reason = answer.reason() == null ? "demand" : answer.reason();
    return new LoadOrder(new ArrayList<>(order), reason, answer.family(), ignored);
  }
}
