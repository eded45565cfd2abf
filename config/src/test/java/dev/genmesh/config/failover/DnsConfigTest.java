package dev.genmesh.config.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.ConfigLoader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** failover.dns: the defaults carry the design's TTL and a zone for `genmesh up`; bad values name their key. */
class DnsConfigTest {

  @Test
  void theDefaultsServeApiGenmeshLocalWithA30sTtlAndNoProvider() {
    DnsConfig dns = ConfigLoader.load(null, Map.of()).failover().dns();
    assertThat(dns.provider()).isEqualTo(DnsConfig.Provider.NONE);
    assertThat(dns.apiFqdn()).isEqualTo("api.genmesh.local");
    assertThat(dns.ttlSeconds()).isEqualTo(30);
    assertThat(dns.edges()).containsEntry("eu-west", List.of("127.0.0.13"));
    assertThat(dns.tsig().secretFile()).isEmpty();
    assertThat(dns.responder().enabled()).isTrue();
    assertThat(dns.responder().nearest().get("us-east")).containsExactly("us-east", "us-west", "eu-west");
    assertThat(dns).isEqualTo(DnsConfig.defaults());
  }

  @Test
  void environmentOverridesReachTheNestedKeys() {
    DnsConfig dns = ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__PROVIDER", "rfc2136",
        "GENMESH_FAILOVER__DNS__RFC2136__SERVER", "10.0.0.53:53", "GENMESH_FAILOVER__DNS__TSIG__ALGORITHM", "hmac-sha512"))
        .failover().dns();
    assertThat(dns.provider()).isEqualTo(DnsConfig.Provider.RFC2136);
    assertThat(dns.rfc2136().server()).isEqualTo("10.0.0.53:53");
    assertThat(dns.tsig().algorithm()).isEqualTo("hmac-sha512");
  }

  @Test
  void badValuesNameTheirKey() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__PROVIDER", "route66")))
        .hasMessageContaining("failover.dns.provider");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__EDGES__US_WEST", "[edge.example.com]")))
        .hasMessageContaining("failover.dns.edges.us-west");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__RFC2136__SERVER", "ns1")))
        .hasMessageContaining("failover.dns.rfc2136.server");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__PROVIDER", "rfc2136")))
        .hasMessageContaining("failover.dns.rfc2136.server").hasMessageContaining("required");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__TSIG__ALGORITHM", "rot13")))
        .hasMessageContaining("failover.dns.tsig.algorithm");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__RESPONDER__DEFAULT_REGION", "mars")))
        .hasMessageContaining("failover.dns.responder.default_region");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__TTL_S", "0")))
        .hasMessageContaining("failover.dns.ttl_s");
  }
}
