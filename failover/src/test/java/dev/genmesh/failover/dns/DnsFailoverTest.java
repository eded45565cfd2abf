package dev.genmesh.failover.dns;

import static dev.genmesh.testkit.Waits.await;
import static dev.genmesh.testkit.Waits.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.protocol.failover.RegionDecision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * DnsFailover driving the embedded responder through the RFC 2136 provider, as {@code genmesh up}
 * wires them: a DOWN decision on the event bus moves the answer to the next region, UP moves it back.
 */
class DnsFailoverTest {
  private final DnsFixture dns = new DnsFixture(true);

  @AfterEach
  void close() {
    dns.close();
  }

  @Test
  void aDownDecisionMovesTheAnswerToTheNextRegionAndUpBringsItBack() throws Exception {
    DnsProvider provider = DnsProviders.rfc2136(dns.vertx, dns.providerConfig(), dns.key);
    await(dns.vertx.deployVerticle(new DnsFailover(dns.providerConfig(), provider, dns.meters, Clock.systemUTC())));
    assertThat(apiAnswer()).containsExactly("127.0.0.12"); // loopback clients are us-east's here

    Instant suspected = Instant.now().minusSeconds(15);
    dns.vertx.eventBus().publish(RegionDecision.ADDRESS, decision("us-east", RegionDecision.State.DOWN, "us-west",
        suspected).toJson());
    eventually("the API name answers us-west's edge once us-east is down", () -> apiAnswer().equals(List.of("127.0.0.11")));
    assertThat(DnsFixture.addresses(dns.query("us-east.api.genmesh.local.", Type.A))).isEmpty();
    assertThat(await(provider.published()).get("us-east")).isEmpty();
    eventually("the change is measured", () -> timerCount("us-east", "down", "suspicion") == 1);
    var fromSuspicion = dns.meters.find("genmesh.dns.failover.duration").tags("region", "us-east", "state", "down",
        "since", "suspicion").timer();
    assertThat(fromSuspicion.totalTime(java.util.concurrent.TimeUnit.SECONDS)).isGreaterThanOrEqualTo(15);
    assertThat(timerCount("us-east", "down", "decision")).isEqualTo(1);

    dns.vertx.eventBus().publish(RegionDecision.ADDRESS, decision("us-east", RegionDecision.State.UP, null,
        Instant.now()).toJson());
    eventually("us-east answers again once it is up", () -> apiAnswer().equals(List.of("127.0.0.12")));
    assertThat(await(provider.published()).get("us-east")).extracting(a -> a.getHostAddress()).containsExactly("127.0.0.12");
    eventually("the fail-back is measured", () -> timerCount("us-east", "up", "decision") == 1);
  }

  @Test
  void whenEveryRegionIsWithdrawnTheApiNameHasNoAddressAndSaysSo() throws Exception {
    DnsProvider provider = DnsProviders.rfc2136(dns.vertx, dns.providerConfig(), dns.key);
    for (String region : List.of("us-west", "us-east", "eu-west")) {
      await(provider.withdraw(region));
    }
    var answer = dns.query("api.genmesh.local.", Type.A);
    assertThat(DnsFixture.addresses(answer)).isEmpty();
    assertThat(answer.getSection(org.xbill.DNS.Section.AUTHORITY)).hasSize(1);
    assertThat(dns.counter("genmesh.dns.queries", "answer_region", "none")).isEqualTo(1);
    await(provider.publish("eu-west", List.of(DnsNames.ip("127.0.0.13"))));
    assertThat(apiAnswer()).containsExactly("127.0.0.13");
  }

  @Test
  void aChangeTheServerCannotTakeIsRetriedUntilItIsApplied() throws Exception {
    int port = freePort();
    DnsConfig pointedAtNothing = dns.config.withProvider(DnsConfig.Provider.RFC2136,
        new DnsConfig.Rfc2136("127.0.0.1:" + port, true));
    DnsFailover failover = new DnsFailover(pointedAtNothing, DnsProviders.rfc2136(dns.vertx, pointedAtNothing, dns.key),
        dns.meters, Clock.systemUTC());
    await(dns.vertx.deployVerticle(failover));
    var applied = failover.apply(decision("us-west", RegionDecision.State.DOWN, "us-east", Instant.now()));
    eventually("a few attempts fail", () -> dns.counter("genmesh.dns.changes", "outcome", "failed") >= 2);
    assertThat(applied.isComplete()).isFalse();

    // The server comes (a second responder on the port the provider points at): the next retry lands.
    GeoDnsResponder late = new GeoDnsResponder(pointedAtNothing.withResponder(pointedAtNothing.responder().withPort(port)),
        dns.key, dns.meters, true);
    await(dns.vertx.deployVerticle(late));
    assertThat(await(applied)).isTrue();
    assertThat(dns.counter("genmesh.dns.changes", "region", "us-west", "outcome", "applied")).isEqualTo(1);
  }

  @Test
  void aNewerDecisionReplacesOneStillBeingRetried() {
    DnsConfig pointedAtNothing = dns.config.withProvider(DnsConfig.Provider.RFC2136,
        new DnsConfig.Rfc2136("127.0.0.1:" + freePort(), true));
    DnsFailover failover = new DnsFailover(pointedAtNothing, DnsProviders.rfc2136(dns.vertx, pointedAtNothing, dns.key),
        dns.meters, Clock.systemUTC());
    await(dns.vertx.deployVerticle(failover));
    var down = failover.apply(decision("us-west", RegionDecision.State.DOWN, "us-east", Instant.now()));
    failover.apply(decision("us-west", RegionDecision.State.UP, null, Instant.now()));
    assertThat(await(down)).as("the DOWN change gives way to the UP decision").isFalse();
  }

  @Test
  void theDryRunProviderChangesNothingButRemembersWhatItWouldHaveDone() throws Exception {
    DnsProvider dryRun = DnsProviders.dryRun(dns.config);
    DnsFailover failover = new DnsFailover(dns.config, dryRun, dns.meters, Clock.systemUTC());
    await(dns.vertx.deployVerticle(failover));
    assertThat(await(failover.apply(decision("us-east", RegionDecision.State.DOWN, "us-west", Instant.now())))).isTrue();
    assertThat(await(dryRun.published())).containsEntry("us-east", List.of());
    assertThat(apiAnswer()).as("the real zone is untouched").containsExactly("127.0.0.12");
    assertThat(await(failover.apply(decision("us-east", RegionDecision.State.UP, null, Instant.now())))).isTrue();
    assertThat(await(dryRun.published()).get("us-east")).extracting(a -> a.getHostAddress()).containsExactly("127.0.0.12");
    assertThat(dryRun.describe()).startsWith("dry-run");
  }

  private List<String> apiAnswer() {
    try {
      return DnsFixture.addresses(dns.query("api.genmesh.local.", Type.A));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long timerCount(String region, String state, String since) {
    var timer = dns.meters.find("genmesh.dns.failover.duration").tags("region", region, "state", state, "since", since)
        .timer();
    return timer == null ? 0 : timer.count();
  }

  static RegionDecision decision(String region, RegionDecision.State state, String adopter, Instant suspectedSince) {
    return new RegionDecision(region, state, adopter, Instant.now(), suspectedSince, List.of("edge", "eu-west"),
        List.of("edge", "eu-west", "us-west"), "test");
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
