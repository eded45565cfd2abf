package dev.genmesh.failover.dns;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.failover.dns.impl.DryRunProvider;
import dev.genmesh.failover.dns.impl.Rfc2136Provider;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.Optional;

/** The provider {@code failover.dns.provider} names; none for {@code none}. */
public final class DnsProviders {
  private DnsProviders() {}

  /** {@code env} holds the TSIG secret when no {@code secret_file} is set. */
  public static Optional<DnsProvider> create(Vertx vertx, DnsConfig config, Map<String, String> env) {
    return switch (config.provider()) {
      case NONE -> Optional.empty();
      case DRY_RUN -> Optional.of(dryRun(config));
      case RFC2136 -> Optional.of(rfc2136(vertx, config, TsigKey.load(config.tsig(), env)));
    };
  }

  public static DnsProvider dryRun(DnsConfig config) {
    return new DryRunProvider(config);
  }

  /** Updates to {@code failover.dns.rfc2136.server}, signed with {@code key}. */
  public static DnsProvider rfc2136(Vertx vertx, DnsConfig config, TsigKey key) {
    return new Rfc2136Provider(vertx, config, key);
  }
}
