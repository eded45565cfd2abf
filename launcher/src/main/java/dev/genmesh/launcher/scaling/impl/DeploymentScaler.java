package dev.genmesh.launcher.scaling.impl;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The blocking fabric8 calls of the Kubernetes actuator, for one namespace. Callers run them on
 * a worker thread, never on an event loop.
 */
public final class DeploymentScaler {
  private final KubernetesClient client;
  private final String namespace;

  public DeploymentScaler(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  public String namespace() {
    return namespace;
  }

  /** A Deployment's desired replicas and the labels that select its pods. */
  public record DeploymentState(String name, int replicas, Map<String, String> selector) {
    boolean owns(Pod pod) {
      Map<String, String> labels = pod.getMetadata().getLabels();
      return labels != null && labels.entrySet().containsAll(selector.entrySet());
    }
  }

  /** @throws MissingDeploymentException when the namespace has no such Deployment */
  public DeploymentState read(String deployment) {
    Deployment found = client.apps().deployments().inNamespace(namespace).withName(deployment).get();
    if (found == null) {
      throw new MissingDeploymentException(namespace, deployment);
    }
    Integer replicas = found.getSpec().getReplicas();
    Map<String, String> selector = found.getSpec().getSelector() == null ? null
        : found.getSpec().getSelector().getMatchLabels();
    // A Deployment without spec.replicas runs 1 (the worker manifests leave it out on purpose).
    return new DeploymentState(deployment, replicas == null ? 1 : replicas, selector == null ? Map.of() : Map.copyOf(selector));
  }

  /** Sets the replicas through the scale subresource (what the Role grants: deployments/scale). */
  public void scale(String deployment, int replicas) {
    client.apps().deployments().inNamespace(namespace).withName(deployment).scale(replicas);
  }

  /** The named pods that exist and belong to the Deployment, in the given order. */
  public List<String> podsOf(DeploymentState deployment, Collection<String> podNames) {
    List<String> found = new ArrayList<>();
    for (String name : podNames) {
      Pod pod = client.pods().inNamespace(namespace).withName(name).get();
      if (pod != null && deployment.owns(pod)) {
        found.add(name);
      }
    }
    return found;
  }

  /**
   * Gives {@code first} the deletion cost {@code cost} and takes an earlier mark of that cost off
   * the Deployment's other pods, so that a pod marked for a scale-down that did not happen does
   * not go first forever.
   */
  public void markFirstToGo(DeploymentState deployment, List<String> first, String annotation, String cost) {
    for (String name : first) {
      client.pods().inNamespace(namespace).withName(name).edit(pod -> new PodBuilder(pod)
          .editMetadata().addToAnnotations(annotation, cost).endMetadata().build());
    }
    if (deployment.selector().isEmpty()) {
      return;
    }
    for (Pod pod : client.pods().inNamespace(namespace).withLabels(deployment.selector()).list().getItems()) {
      Map<String, String> annotations = pod.getMetadata().getAnnotations();
      if (!first.contains(pod.getMetadata().getName()) && annotations != null && cost.equals(annotations.get(annotation))) {
        client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).edit(p -> new PodBuilder(p)
            .editMetadata().removeFromAnnotations(annotation).endMetadata().build());
      }
    }
  }
}
