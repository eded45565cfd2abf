package dev.genmesh.failover.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ClientSubnetOption;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/** The embedded GeoDNS responder over real UDP and TCP sockets on loopback, with dnsjava's resolver as the client. */
class GeoDnsResponderTest {
  private final DnsFixture dns = new DnsFixture(true);

  @AfterEach
  void close() {
    dns.close();
  }

  @Test
  void answersTheApiNameByTheClientsSourceSubnetOverUdpAndTcp() throws Exception {
    Message udp = dns.query("api.genmesh.local.", Type.A);
    assertThat(udp.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(udp.getHeader().getFlag(Flags.AA)).isTrue();
    // 127.0.0.1 is in 127.0.0.0/8, us-east's subnet here: us-east's edge, not the default region's.
    assertThat(DnsFixture.addresses(udp)).containsExactly("127.0.0.12");
    assertThat(udp.getSection(Section.ANSWER).get(0).getTTL()).isEqualTo(30);

    Message tcp = dns.resolver(true).send(Message.newQuery(org.xbill.DNS.Record.newRecord(
        Name.fromString("api.genmesh.local."), Type.A, org.xbill.DNS.DClass.IN)));
    assertThat(DnsFixture.addresses(tcp)).containsExactly("127.0.0.12");
    assertThat(dns.counter("genmesh.dns.queries", "answer_region", "us-east")).isEqualTo(2);
  }

  @Test
  void answersByEdnsClientSubnetWhenTheQueryCarriesOne() throws Exception {
    Message eu = dns.queryFor("10.3.7.0", 24);
    assertThat(DnsFixture.addresses(eu)).containsExactly("127.0.0.13");
    ClientSubnetOption echo = (ClientSubnetOption) eu.getOPT().getOptions(EDNSOption.Code.CLIENT_SUBNET).get(0);
    assertThat(echo.getSourcePrefixLength()).isEqualTo(24);
    assertThat(echo.getScopePrefixLength()).isEqualTo(16);

    assertThat(DnsFixture.addresses(dns.queryFor("10.1.200.0", 24))).containsExactly("127.0.0.11");
    // In no listed subnet: the default region (us-west).
    assertThat(DnsFixture.addresses(dns.queryFor("192.0.2.0", 24))).containsExactly("127.0.0.11");
    assertThat(dns.counter("genmesh.dns.queries", "answer_region", "eu-west")).isEqualTo(1);
  }

  @Test
  void servesTheZonesSoaAndNsAndSaysNxdomainOrRefusedWhereRight() throws Exception {
    Message soa = dns.query("genmesh.local.", Type.SOA);
    assertThat(soa.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(soa.getSection(Section.ANSWER)).singleElement().satisfies(r -> assertThat(r.getType()).isEqualTo(Type.SOA));
    Message ns = dns.query("genmesh.local.", Type.NS);
    assertThat(ns.getSection(Section.ANSWER).get(0).rdataToString()).isEqualTo("ns1.genmesh.local.");
    assertThat(DnsFixture.addresses(new Message(ns.toWire())).isEmpty()).isTrue();
    assertThat(ns.getSection(Section.ADDITIONAL).stream().anyMatch(r -> r.getType() == Type.A)).isTrue();

    Message missing = dns.query("nothing.genmesh.local.", Type.A);
    assertThat(missing.getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(missing.getSection(Section.AUTHORITY)).singleElement()
        .satisfies(r -> assertThat(r.getType()).isEqualTo(Type.SOA));
    Message noData = dns.query("api.genmesh.local.", Type.MX);
    assertThat(noData.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(noData.getSection(Section.ANSWER)).isEmpty();
    assertThat(dns.query("example.com.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
  }

  @Test
  void appliesAnUpdateSignedWithItsKeyAndRefusesUnsignedOrWrongKeyUpdates() throws Exception {
    Name westName = Name.fromString("us-west.api.genmesh.local.");
    Update unsigned = new Update(Name.fromString("genmesh.local."));
    unsigned.delete(westName, Type.A);
    assertThat(dns.resolver(false).send(unsigned).getRcode()).isEqualTo(Rcode.REFUSED);

    SimpleResolver wrongSecret = dns.resolver(true);
    wrongSecret.setTSIGKey(DnsFixture.randomKey("genmesh-failover").tsig());
    Update forged = new Update(Name.fromString("genmesh.local."));
    forged.delete(westName, Type.A);
    assertThat(wrongSecret.send(forged).getRcode()).isEqualTo(Rcode.NOTAUTH);

    SimpleResolver otherKey = dns.resolver(true);
    otherKey.setTSIGKey(DnsFixture.randomKey("someone-else").tsig());
    Update strange = new Update(Name.fromString("genmesh.local."));
    strange.delete(westName, Type.A);
    assertThat(otherKey.send(strange).getRcode()).isEqualTo(Rcode.NOTAUTH);
    assertThat(DnsFixture.addresses(dns.query("us-west.api.genmesh.local.", Type.A))).containsExactly("127.0.0.11");
    assertThat(dns.counter("genmesh.dns.updates", "outcome", "refused")).isEqualTo(3);

    SimpleResolver signed = dns.resolver(true);
    signed.setTSIGKey(dns.key.tsig());
    Update update = new Update(Name.fromString("genmesh.local."));
    update.delete(westName, Type.A);
    update.add(westName, Type.A, 30, "127.0.0.21");
    Message answer = signed.send(update);
    assertThat(answer.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(answer.isVerified()).isTrue();
    assertThat(DnsFixture.addresses(dns.query("us-west.api.genmesh.local.", Type.A))).containsExactly("127.0.0.21");
    assertThat(dns.counter("genmesh.dns.updates", "outcome", "applied")).isEqualTo(1);

    // Outside the zone: NOTZONE, and nothing of the update is applied.
    Update outside = new Update(Name.fromString("genmesh.local."));
    outside.delete(westName, Type.A);
    outside.add(Name.fromString("www.example.com."), Type.A, 30, "192.0.2.1");
    assertThat(signed.send(outside).getRcode()).isEqualTo(Rcode.NOTZONE);
    assertThat(DnsFixture.addresses(dns.query("us-west.api.genmesh.local.", Type.A))).containsExactly("127.0.0.21");
  }

  @Test
  void aMalformedPacketIsAnsweredFormerrOrDroppedAndTheResponderKeepsAnswering() throws Exception {
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.setSoTimeout(1000);
      InetSocketAddress target = new InetSocketAddress("127.0.0.1", dns.responder.port());
      // A header that says one question, then garbage where the question should be.
      byte[] garbage = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 63, 'x', 'y'};
      socket.send(new DatagramPacket(garbage, garbage.length, target));
      DatagramPacket reply = new DatagramPacket(new byte[512], 512);
      socket.receive(reply);
      Header header = new Header(java.util.Arrays.copyOf(reply.getData(), Header.LENGTH));
      assertThat(header.getID()).isEqualTo(0x1234);
      assertThat(header.getRcode()).isEqualTo(Rcode.FORMERR);
      assertThat(header.getFlag(Flags.QR)).isTrue();

      byte[] tooShort = {1, 2, 3};
      socket.send(new DatagramPacket(tooShort, tooShort.length, target));
      boolean answered;
      try {
        socket.receive(new DatagramPacket(new byte[512], 512));
        answered = true;
      } catch (SocketTimeoutException e) {
        answered = false;
      }
      assertThat(answered).as("a packet without a DNS header is dropped").isFalse();
    }
    try (java.net.Socket tcp = new java.net.Socket("127.0.0.1", dns.responder.port())) {
      tcp.setSoTimeout(5000);
      // Over TCP: a two-byte length, then three bytes that are no DNS message; the connection is closed unanswered.
      tcp.getOutputStream().write(new byte[] {0, 3, 1, 2, 3});
      assertThat(tcp.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(dns.counter("genmesh.dns.malformed")).isEqualTo(3);
    assertThat(DnsFixture.addresses(dns.resolver(true).send(org.xbill.DNS.Message.newQuery(org.xbill.DNS.Record.newRecord(
        Name.fromString("api.genmesh.local."), Type.A, org.xbill.DNS.DClass.IN))))).containsExactly("127.0.0.12");
    assertThat(DnsFixture.addresses(dns.query("api.genmesh.local.", Type.A))).isEqualTo(List.of("127.0.0.12"));
  }
}
