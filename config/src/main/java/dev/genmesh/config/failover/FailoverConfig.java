package dev.genmesh.config.failover;

import dev.genmesh.config.impl.Node;

/**
 * The {@code failover} section (docs/failover.md): what the mesh does when a region is declared
 * down or up again. Each part keeps its keys in its own nested record.
 *
 * @param dns how DNS follows the decisions ({@code failover.dns.*})
 */
public record FailoverConfig(DnsConfig dns) {

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static FailoverConfig defaults() {
    return new FailoverConfig(DnsConfig.defaults());
  }

  public FailoverConfig withDns(DnsConfig newDns) {
    return new FailoverConfig(newDns);
  }

  public static FailoverConfig read(Node n) {
    FailoverConfig config = new FailoverConfig(n.has("dns") ? DnsConfig.read(n.child("dns")) : DnsConfig.defaults());
    n.finish();
    return config;
  }
}
