package dev.genmesh.launcher.impl;

import static dev.genmesh.testkit.Waits.await;
import static dev.genmesh.testkit.Waits.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.protocol.failover.RegionDecision;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * What {@code genmesh up} starts for DNS, with the default config: the responder on a free port, a
 * TSIG key in the data dir, and DnsFailover on the (edge's) event bus, so that a DOWN decision for
 * us-west moves loopback clients (us-west's subnet by default) to us-east, its nearest region.
 */
class LocalDnsTest {
  private final Vertx vertx = Vertx.vertx();
  @TempDir Path dataDir;

  @AfterEach
  void close() {
    await(vertx.close());
  }

  @Test
  void upsResponderFollowsTheDecisionsOnItsEventBus() throws Exception {
    DnsConfig config = ConfigLoader.load(null, Map.of()).failover().dns();
    LocalDns dns = await(LocalDns.startEmbedded(vertx, config, dataDir, new SimpleMeterRegistry(), Map.of()));
    assertThat(dns.keyFile()).isEqualTo(dataDir.resolve("dns/tsig.key"));
    assertThat(Files.getPosixFilePermissions(dns.keyFile())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(dns.responder().port()).isPositive();
    assertThat(answer(dns.responder().port())).containsExactly("127.0.0.11");

    vertx.eventBus().publish(RegionDecision.ADDRESS, new RegionDecision("us-west", RegionDecision.State.DOWN, "us-east",
        Instant.now(), Instant.now().minusSeconds(15), List.of("edge", "us-east"), List.of("edge", "us-east", "eu-west"),
        "test").toJson());
    eventually("us-west's clients are sent to us-east", () -> answer(dns.responder().port()).equals(List.of("127.0.0.12")));
  }

  @Test
  void withoutTheResponderNoProviderMeansNoDnsFailover() {
    DnsConfig config = ConfigLoader.load(null, Map.of("GENMESH_FAILOVER__DNS__RESPONDER__ENABLED", "false"))
        .failover().dns();
    LocalDns dns = await(LocalDns.startEmbedded(vertx, config, dataDir, new SimpleMeterRegistry(), Map.of()));
    assertThat(dns.responder()).isNull();
    assertThat(dns.failover()).isNull();
    assertThat(dataDir.resolve("dns")).doesNotExist();
  }

  private static List<String> answer(int port) {
    SimpleResolver resolver = new SimpleResolver(new InetSocketAddress("127.0.0.1", port));
    resolver.setTimeout(Duration.ofSeconds(5));
    try {
      Message answer = resolver.send(Message.newQuery(Record.newRecord(Name.fromString("api.genmesh.local."), Type.A,
          DClass.IN)));
      return answer.getSection(Section.ANSWER).stream().map(r -> ((ARecord) r).getAddress().getHostAddress()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
