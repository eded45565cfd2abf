package dev.genmesh.client.archfixture;

/** Breaks a module rule on purpose (ModuleRulesTest); test code, never loaded by the mesh. */
public final class ClientReadsTheProtocol {
  String tier(dev.genmesh.protocol.Tier tier) {
    return tier.name();
  }
}
