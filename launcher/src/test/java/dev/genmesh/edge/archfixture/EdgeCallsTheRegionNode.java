package dev.genmesh.edge.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class EdgeCallsTheRegionNode {
  int port(dev.genmesh.region.RegionNodeVerticle node) {
    return node.actualPort();
  }
}
