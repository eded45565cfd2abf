package dev.genmesh.launcher.impl;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.region.autoscale.k8s.KubernetesActuator;
import dev.genmesh.region.autoscale.k8s.impl.RegistryDrainCandidates;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.util.Map;

/**
 * The {@code region} role's actuator when {@code autoscaling.kubernetes.enabled}: one Deployment
 * per GPU pool, scaled through the Kubernetes API (docs/autoscaling.md, "Kubernetes actuator").
 * The autoscaler itself runs only with {@code autoscaling.enabled}.
 */
public final class KubernetesScaling {
  private KubernetesScaling() {}

  /** Gives {@code node} the Kubernetes actuator if the config asks for it; answers whether it did. */
  public static boolean attach(Vertx vertx, GenmeshConfig config, String region, RegionNodeVerticle node,
      MeterRegistry registry) {
    if (!config.autoscaling().kubernetes().enabled()) {
      return false;
    }
    node.withActuator(KubernetesActuator.create(vertx, region, config.autoscaling().kubernetes(),
        new RegistryDrainCandidates(node::knownWorkers, model -> familyOf(config, model)), registry));
    return true;
  }

  /**
   * The model-mix family ({@code autoscaling.model_classes}) of the model's primary request
   * class (its first, as routing reads it); {@code other} if none.
   */
  static String familyOf(GenmeshConfig config, String model) {
    ModelConfig declared = config.models().get(model);
    if (declared == null || declared.requestClasses().isEmpty()) {
      return "other";
    }
    String primary = declared.requestClasses().get(0);
    return config.autoscaling().modelClasses().entrySet().stream()
        .filter(family -> family.getValue().contains(primary))
        .map(Map.Entry::getKey).findFirst().orElse("other");
  }
}
