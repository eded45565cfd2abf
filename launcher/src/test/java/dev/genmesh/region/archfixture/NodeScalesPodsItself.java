package dev.genmesh.region.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class NodeScalesPodsItself {
  Class<?> stores() {
    return dev.genmesh.embedded.EmbeddedStores.class;
  }

  Class<?> clock() {
    return dev.genmesh.testkit.ManualClock.class;
  }

  Class<?> client() {
    return io.fabric8.kubernetes.client.KubernetesClient.class;
  }
}
