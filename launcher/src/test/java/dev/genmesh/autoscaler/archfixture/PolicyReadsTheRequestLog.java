package dev.genmesh.autoscaler.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class PolicyReadsTheRequestLog {
  Class<?> log() {
    return dev.genmesh.region.RegionNodeVerticle.class;
  }
}
