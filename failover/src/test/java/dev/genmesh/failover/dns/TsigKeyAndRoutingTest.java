package dev.genmesh.failover.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.failover.dns.impl.GeoRouting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the TSIG secret comes from, and which region a client subnet gets. */
class TsigKeyAndRoutingTest {
  @TempDir Path dir;

  @Test
  void aGeneratedKeyIsABindKeyFileOnlyItsOwnerReadsAndLoadsBack() throws Exception {
    Path file = dir.resolve("dns/tsig.key");
    TsigKey generated = TsigKey.generate(file, "genmesh-failover", "hmac-sha256");
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    String text = Files.readString(file);
    assertThat(text).startsWith("key \"genmesh-failover\" {").contains("algorithm hmac-sha256;").contains("secret \"");
    assertThat(generated.toString()).doesNotContain(TsigKey.secretOf(text));

    TsigKey loaded = TsigKey.load(new DnsConfig.Tsig("genmesh-failover", "hmac-sha256", file.toString(), "UNUSED"), Map.of());
    assertThat(loaded.name()).isEqualTo(generated.name());
    assertThat(loaded.algorithm()).isEqualTo(generated.algorithm());
  }

  @Test
  void theSecretComesFromTheEnvironmentWhenNoFileIsNamedAndItsAbsenceIsAClearError() {
    var config = new DnsConfig.Tsig("k", "hmac-sha512", "", "DNS_SECRET");
    assertThat(TsigKey.load(config, Map.of("DNS_SECRET", "c2VjcmV0c2VjcmV0c2VjcmV0")).name().toString()).isEqualTo("k.");
    assertThatThrownBy(() -> TsigKey.load(config, Map.of())).hasMessageContaining("DNS_SECRET");
    assertThatThrownBy(() -> TsigKey.load(config, Map.of("DNS_SECRET", "not base64!"))).hasMessageContaining("base64");
  }

  @Test
  void theLongestMatchingSubnetGivesTheHomeRegionAndItsOrderTheFallbacks() throws Exception {
    DnsConfig.Responder responder = DnsConfig.defaults().responder().withSubnets(Map.of("10.0.0.0/8", "us-east",
        "10.3.0.0/16", "eu-west", "fd00:3::/32", "eu-west"));
    GeoRouting routing = new GeoRouting(responder, Set.of("us-west", "us-east", "eu-west"));
    assertThat(routing.home(DnsNames.ip("10.3.1.1"))).isEqualTo(new GeoRouting.Home("eu-west", 16));
    assertThat(routing.home(DnsNames.ip("10.4.1.1"))).isEqualTo(new GeoRouting.Home("us-east", 8));
    assertThat(routing.home(DnsNames.ip("fd00:3::1"))).isEqualTo(new GeoRouting.Home("eu-west", 32));
    assertThat(routing.home(DnsNames.ip("192.0.2.1"))).isEqualTo(new GeoRouting.Home("us-west", 0));
    assertThat(routing.choose("eu-west", r -> !r.equals("eu-west"))).contains("us-east");
    assertThat(routing.choose("eu-west", r -> false)).isEmpty();
  }
}
