package dev.genmesh.region.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class NodeScalesPodsItself {
  Class<?> client() {
    return io.fabric8.kubernetes.client.KubernetesClient.class;
  }
}
