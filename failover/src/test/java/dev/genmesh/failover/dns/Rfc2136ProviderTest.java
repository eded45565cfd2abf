package dev.genmesh.failover.dns;

import static dev.genmesh.testkit.Waits.await;
import static dev.genmesh.testkit.Waits.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.failover.DnsConfig;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** The RFC 2136 provider against the embedded responder, as it would drive BIND: signed updates, read-back, flat mode. */
class Rfc2136ProviderTest {
  private final DnsFixture dns = new DnsFixture(false);

  @AfterEach
  void close() {
    dns.close();
  }

  @Test
  void publishesReplacesAndWithdrawsARegionsAddressesIncludingIpv6() throws Exception {
    DnsProvider provider = DnsProviders.rfc2136(dns.vertx, dns.providerConfig(), dns.key);
    assertThat(await(provider.published())).containsEntry("us-west", List.of());
    assertThat(DnsFixture.addresses(dns.query("api.genmesh.local.", Type.A))).as("no region published yet").isEmpty();

    await(provider.publish("us-west", List.of(DnsNames.ip("127.0.0.11"), DnsNames.ip("fd00:1::11"))));
    await(provider.publish("us-west", List.of(DnsNames.ip("127.0.0.21"), DnsNames.ip("fd00:1::21"))));
    assertThat(await(provider.published()).get("us-west")).extracting(InetAddress::getHostAddress)
        .containsExactly("127.0.0.21", "fd00:1:0:0:0:0:0:21");
    assertThat(DnsFixture.addresses(dns.query("api.genmesh.local.", Type.A))).containsExactly("127.0.0.21");
    assertThat(dns.query("api.genmesh.local.", Type.AAAA).getSection(Section.ANSWER)).singleElement()
        .satisfies(r -> assertThat(((AAAARecord) r).getAddress().getHostAddress()).isEqualTo("fd00:1:0:0:0:0:0:21"));

    await(provider.withdraw("us-west"));
    await(provider.withdraw("us-west"));
    assertThat(await(provider.published()).get("us-west")).isEmpty();
    assertThat(dns.counter("genmesh.dns.updates", "outcome", "applied")).isEqualTo(4);
  }

  @Test
  void flatModeKeepsEveryHealthyRegionOnTheNameItselfAndRemovesOnlyTheWithdrawnOnes() throws Exception {
    // The provider's API name is "www" here, which the responder serves as plain records (its geo name is "api").
    DnsConfig flat = new DnsConfig(DnsConfig.Provider.RFC2136, "genmesh.local", "www", 30,
        Map.of("us-west", List.of("127.0.0.11"), "us-east", List.of("127.0.0.12")), true, 5_000, 50, 200,
        new DnsConfig.Rfc2136(dns.responder.address(), false), dns.config.tsig(), dns.config.responder());
    DnsProvider provider = DnsProviders.rfc2136(dns.vertx, flat, dns.key);
    await(provider.publish("us-west", List.of(DnsNames.ip("127.0.0.11"))));
    await(provider.publish("us-east", List.of(DnsNames.ip("127.0.0.12"))));
    assertThat(DnsFixture.addresses(dns.query("www.genmesh.local.", Type.A))).containsExactlyInAnyOrder("127.0.0.11", "127.0.0.12");

    await(provider.withdraw("us-west"));
    assertThat(DnsFixture.addresses(dns.query("www.genmesh.local.", Type.A))).containsExactly("127.0.0.12");
    assertThat(DnsFixture.addresses(dns.query("us-west.www.genmesh.local.", Type.A))).isEmpty();
  }

  @Test
  void anUpdateSignedWithAnotherKeyFailsWithTheServersAnswer() {
    DnsProvider stranger = DnsProviders.rfc2136(dns.vertx, dns.providerConfig(), DnsFixture.randomKey("genmesh-failover"));
    Throwable refused = failure(stranger.withdraw("us-west"));
    assertThat(refused).isInstanceOf(DnsChangeException.class).hasMessageContaining("NOTAUTH");
  }
}
