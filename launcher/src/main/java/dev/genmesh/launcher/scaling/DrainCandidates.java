package dev.genmesh.launcher.scaling;

import dev.genmesh.autoscaler.ScalePlan;
import io.vertx.core.Future;
import java.util.List;

/**
 * Which workers of a shrinking pool should go first, by worker id (= pod name: the manifests
 * start workers with {@code --id $(POD_NAME)}). Kubernetes itself picks the pods a smaller
 * Deployment loses; the actuator can only steer it, by giving these pods a low
 * {@value KubernetesActuator#DELETION_COST} before lowering the replicas.
 *
 * <p>The region node knows which workers are idle and which families they hold (its worker
 * registry); the actuator does not. Until the region node supplies an implementation,
 * {@link #NONE} leaves the choice to Kubernetes (docs/autoscaling.md, "Kubernetes actuator").
 */
@FunctionalInterface
public interface DrainCandidates {
  DrainCandidates NONE = (pool, surplus, plan) -> Future.succeededFuture(List.of());

  /**
   * @param surplus how many workers the pool loses
   * @return worker ids in the order they should go (idle ones holding {@link ScalePlan#drainModels}
   *     first); more than {@code surplus} are ignored
   */
  Future<List<String>> choose(String pool, int surplus, ScalePlan plan);
}
