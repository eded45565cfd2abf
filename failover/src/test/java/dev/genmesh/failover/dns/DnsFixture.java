package dev.genmesh.failover.dns;

import static dev.genmesh.testkit.Waits.await;

import dev.genmesh.config.failover.DnsConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.ClientSubnetOption;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** A responder on a free loopback port with a fresh TSIG key, and dnsjava's SimpleResolver as the client. */
final class DnsFixture implements AutoCloseable {
  /** 127.0.0.0/8 is us-east's here (not us-west, the default region), so that the source address visibly decides. */
  static final Map<String, String> SUBNETS = Map.of("10.1.0.0/16", "us-west", "10.2.0.0/16", "us-east",
      "10.3.0.0/16", "eu-west", "127.0.0.0/8", "us-east", "fd00:3::/32", "eu-west");

  final Vertx vertx = Vertx.vertx();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final TsigKey key = randomKey("genmesh-failover");
  final DnsConfig config;
  final GeoDnsResponder responder;

  DnsFixture(boolean seed) {
    DnsConfig defaults = DnsConfig.defaults();
    this.config = defaults.withResponder(defaults.responder().withSubnets(SUBNETS)).withRetry(50, 200);
    this.responder = new GeoDnsResponder(config, key, meters, seed);
    await(vertx.deployVerticle(responder));
  }

  static TsigKey randomKey(String name) {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    return TsigKey.of(name, "hmac-sha256", Base64.getEncoder().encodeToString(secret));
  }

  /** The config pointing the rfc2136 provider at this responder. */
  DnsConfig providerConfig() {
    return config.withProvider(DnsConfig.Provider.RFC2136, new DnsConfig.Rfc2136(responder.address(), true));
  }

  SimpleResolver resolver(boolean tcp) {
    SimpleResolver resolver = new SimpleResolver(new InetSocketAddress("127.0.0.1", responder.port()));
    resolver.setTCP(tcp);
    resolver.setTimeout(Duration.ofSeconds(5));
    return resolver;
  }

  Message query(String name, int type) throws IOException {
    return resolver(false).send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
  }

  /** A query that says it is asked for a client in {@code subnet}/{@code prefix} (EDNS Client Subnet). */
  Message queryFor(String clientSubnet, int prefix) throws IOException {
    SimpleResolver resolver = resolver(false);
    resolver.setEDNS(0, 1232, 0, List.of(new ClientSubnetOption(prefix, InetAddress.getByName(clientSubnet))));
    return resolver.send(Message.newQuery(Record.newRecord(Name.fromString("api.genmesh.local."), Type.A, DClass.IN)));
  }

  static List<String> addresses(Message answer) {
    return answer.getSection(Section.ANSWER).stream().filter(ARecord.class::isInstance)
        .map(r -> ((ARecord) r).getAddress().getHostAddress()).toList();
  }

  double counter(String name, String... tags) {
    return meters.find(name).tags(tags).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Override
  public void close() {
    await(vertx.close());
  }
}
