package dev.genmesh.launcher.scaling;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.launcher.scaling.impl.RegistryDrainCandidates;
import dev.genmesh.region.RegionNodeVerticle;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/**
 * The {@code region} role's actuator when {@code autoscaling.kubernetes.enabled}: one Deployment
 * per GPU pool, scaled through the Kubernetes API (docs/autoscaling.md, "Kubernetes actuator").
 * The autoscaler itself runs only with {@code autoscaling.enabled}.
 */
public final class KubernetesScaling {
  private KubernetesScaling() {}

  /** Gives {@code node} the Kubernetes actuator if the config asks for it; answers whether it did. */
  public static boolean attach(Vertx vertx, GenmeshConfig config, String region, RegionNodeVerticle node,
      MeterRegistry meters) {
    if (!config.autoscaling().kubernetes().enabled()) {
      return false;
    }
    node.withActuator(KubernetesActuator.create(vertx, region, config.autoscaling().kubernetes(),
        new RegistryDrainCandidates(node::knownWorkers, config::modelFamily), meters));
    return true;
  }

  /** The model-mix family the drain order counts a model for: {@code models.<m>.family} ({@link GenmeshConfig#modelFamily}). */
  static String familyOf(GenmeshConfig config, String model) {
    return config.modelFamily(model);
  }
}
