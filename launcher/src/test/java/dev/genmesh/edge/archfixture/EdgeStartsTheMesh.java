package dev.genmesh.edge.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class EdgeStartsTheMesh {
  String[] command() {
    return new String[] {dev.genmesh.launcher.Main.class.getName(), "up"};
  }
}
