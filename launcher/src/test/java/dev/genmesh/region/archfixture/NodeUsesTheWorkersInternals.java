package dev.genmesh.region.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class NodeUsesTheWorkersInternals {
  Class<?> loop() {
    return dev.genmesh.inference.impl.WorkLoop.class;
  }
}
