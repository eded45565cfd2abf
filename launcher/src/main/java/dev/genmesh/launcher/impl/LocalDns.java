package dev.genmesh.launcher.impl;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.failover.dns.DnsFailover;
import dev.genmesh.failover.dns.DnsProvider;
import dev.genmesh.failover.dns.DnsProviders;
import dev.genmesh.failover.dns.GeoDnsResponder;
import dev.genmesh.failover.dns.TsigKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * DNS failover on the edge's Vert.x (docs/failover.md, "DNS"). For {@code genmesh up}: the embedded
 * GeoDNS responder with a TSIG key generated at each start into {@code <data dir>/dns/tsig.key},
 * and {@link DnsFailover} driving it through the RFC 2136 provider exactly as it would drive BIND.
 * For {@code genmesh edge}: {@link DnsFailover} with the provider the config names, if any.
 *
 * @param responder the embedded responder, or null when none runs
 * @param keyFile where its TSIG key was written, or null
 */
public record LocalDns(GeoDnsResponder responder, Path keyFile, DnsFailover failover) {

  /** The responder and DnsFailover against it; neither when {@code failover.dns.responder.enabled} is false. */
  public static Future<LocalDns> startEmbedded(Vertx vertx, DnsConfig config, Path dataDir, MeterRegistry meters,
      Map<String, String> env) {
    if (!config.responder().enabled()) {
      return startConfigured(vertx, config, meters, env);
    }
    Path keyFile = dataDir.resolve("dns").resolve("tsig.key");
    TsigKey key = TsigKey.generate(keyFile, config.tsig().keyName(), config.tsig().algorithm());
    GeoDnsResponder responder = new GeoDnsResponder(config, key, meters, true);
    return vertx.deployVerticle(responder).compose(id -> {
      DnsConfig toResponder = config.withProvider(DnsConfig.Provider.RFC2136,
          new DnsConfig.Rfc2136(responder.address(), true));
      DnsFailover failover = new DnsFailover(toResponder, DnsProviders.rfc2136(vertx, toResponder, key), meters,
          Clock.systemUTC());
      return vertx.deployVerticle(failover).map(f -> new LocalDns(responder, keyFile, failover));
    });
  }

  /** DnsFailover with {@code failover.dns.provider}; nothing (an empty LocalDns) for {@code none}. */
  public static Future<LocalDns> startConfigured(Vertx vertx, DnsConfig config, MeterRegistry meters,
      Map<String, String> env) {
    DnsProvider provider = DnsProviders.create(vertx, config, env).orElse(null);
    if (provider == null) {
      return Future.succeededFuture(new LocalDns(null, null, null));
    }
    DnsFailover failover = new DnsFailover(config, provider, meters, Clock.systemUTC());
    return vertx.deployVerticle(failover).map(id -> new LocalDns(null, null, failover));
  }
}
