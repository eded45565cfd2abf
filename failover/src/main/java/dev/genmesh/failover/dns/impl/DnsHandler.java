package dev.genmesh.failover.dns.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ClientSubnetOption;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import dev.genmesh.failover.dns.TsigKey;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;

/**
 * One DNS message in, one answer out (or nothing): queries through {@link QueryAnswers}, RFC 2136
 * updates through {@link ZoneRecords} when signed with the zone's TSIG key. A packet that does not
 * parse is answered FORMERR when its header can be read, else dropped.
 */
public final class DnsHandler {
  private static final Logger LOG = LoggerFactory.getLogger(DnsHandler.class);
  private static final int UDP_PAYLOAD = 1232;

  private final ZoneRecords zone;
  private final QueryAnswers answers;
  private final TsigKey key;
  private final MeterRegistry meters;
  private final Counter applied;
  private final Counter malformed;
  private final AtomicLong malformedSeen = new AtomicLong();

  public DnsHandler(ZoneRecords zone, QueryAnswers answers, TsigKey key, MeterRegistry meters) {
    this.zone = zone;
    this.answers = answers;
    this.key = key;
    this.meters = meters;
    this.applied = Counter.builder("genmesh.dns.updates").tag("outcome", "applied").tag("reason", "none")
        .description("RFC 2136 updates the GeoDNS responder applied or refused").register(meters);
    this.malformed = Counter.builder("genmesh.dns.malformed")
        .description("packets the GeoDNS responder could not parse (answered FORMERR or dropped)").register(meters);
  }

  /** The answer's bytes, or null to send nothing. */
  public byte[] handle(byte[] packet, InetAddress source, boolean tcp) {
    Message request;
    try {
      request = new Message(packet);
    } catch (IOException | RuntimeException e) {
      return formatError(packet, source, e);
    }
    Header header = request.getHeader();
    if (header.getFlag(Flags.QR)) {
      return null; // an answer sent to us: never answer it (no loops)
    }
    Message response = new Message(header.getID());
    Header out = response.getHeader();
    out.setFlag(Flags.QR);
    out.setOpcode(header.getOpcode());
    if (header.getFlag(Flags.RD)) {
      out.setFlag(Flags.RD);
    }
    List<Record> question = request.getSection(Section.QUESTION);
    question.forEach(q -> response.addRecord(q, Section.QUESTION));
    int rcode;
    TSIGRecord signature = request.getTSIG();
    String badSignature = signature == null ? null : signatureProblem(request, packet, signature);
    if (badSignature != null) {
      rcode = Rcode.NOTAUTH;
      if (header.getOpcode() == Opcode.UPDATE) {
        refused(badSignature, source, "signed with key " + signature.getName() + " " + signature.getAlgorithm()
            + (badSignature.equals("bad_key") ? ", which is not the zone's" : ", but the signature does not verify"));
      }
    } else if (question.size() != 1) {
      rcode = Rcode.FORMERR;
    } else if (header.getOpcode() == Opcode.QUERY) {
      out.setFlag(Flags.AA);
      rcode = query(request, question.get(0), source, response);
    } else if (header.getOpcode() == Opcode.UPDATE) {
      rcode = update(request, question.get(0), signature != null, source);
    } else {
      rcode = Rcode.NOTIMP;
    }
    out.setRcode(rcode);
    if (signature != null && rcode != Rcode.NOTAUTH) {
      response.setTSIG(key.tsig(), Rcode.NOERROR, signature);
    }
    OPTRecord opt = request.getOPT();
    int max = tcp ? 65_535 : opt == null ? 512 : Math.max(512, Math.min(opt.getPayloadSize(), UDP_PAYLOAD));
    return response.toWire(max);
  }

  private int query(Message request, Record question, InetAddress source, Message response) {
    ClientSubnetOption subnet = clientSubnet(request.getOPT());
    InetAddress client = subnet != null && subnet.getSourcePrefixLength() > 0 ? subnet.getAddress() : source;
    QueryAnswers.Outcome outcome = answers.answer(question, client, response);
    if (request.getOPT() != null) {
      List<EDNSOption> echo = subnet == null ? List.of()
          : List.of(new ClientSubnetOption(subnet.getSourcePrefixLength(), outcome.scopePrefix(), subnet.getAddress()));
      response.addRecord(new OPTRecord(UDP_PAYLOAD, 0, 0, 0, echo), Section.ADDITIONAL);
    }
    if (outcome.rcode() != Rcode.REFUSED && question.getName().equals(answersApiName())) {
      Counter.builder("genmesh.dns.queries").tag("answer_region", outcome.region().orElse("none"))
          .description("queries for the API name by the region answered (none: no region up)").register(meters)
          .increment();
    }
    return outcome.rcode();
  }

  private int update(Message request, Record zoneQuestion, boolean signed, InetAddress source) {
    if (!signed) {
      refused("unsigned", source, "not signed with the zone's TSIG key");
      return Rcode.REFUSED;
    }
    if (!zoneQuestion.getName().equals(zone.origin()) || zoneQuestion.getType() != Type.SOA) {
      refused("not_zone", source, "for zone " + zoneQuestion.getName() + ", not " + zone.origin());
      return Rcode.NOTAUTH;
    }
    int rcode = zone.update(request.getSection(Section.PREREQ), request.getSection(Section.UPDATE));
    if (rcode == Rcode.NOERROR) {
      applied.increment();
      LOG.info("DNS update from {} applied: zone {} serial {}", source.getHostAddress(), zone.origin(),
          zone.soa().getSerial());
    } else {
      refused(Rcode.string(rcode).toLowerCase(java.util.Locale.ROOT), source, "answered " + Rcode.string(rcode));
    }
    return rcode;
  }

  /** Null when the request is signed with the zone's key; else {@code bad_key} or {@code bad_signature}. */
  private String signatureProblem(Message request, byte[] packet, TSIGRecord signature) {
    if (!signature.getName().equals(key.name()) || !signature.getAlgorithm().equals(key.algorithm())) {
      return "bad_key";
    }
    return key.tsig().verify(request, packet, null) == Rcode.NOERROR ? null : "bad_signature";
  }

  private void refused(String reason, InetAddress source, String why) {
    Counter.builder("genmesh.dns.updates").tag("outcome", "refused").tag("reason", reason)
        .description("RFC 2136 updates the GeoDNS responder applied or refused").register(meters).increment();
    LOG.warn("DNS update from {} refused ({}): {}", source.getHostAddress(), reason, why);
  }

  /** FORMERR with the request's id when its header parses; nothing otherwise. Logged at 1, 2, 4, 8 ... */
  private byte[] formatError(byte[] packet, InetAddress source, Exception cause) {
    malformed.increment();
    long seen = malformedSeen.incrementAndGet();
    if (Long.bitCount(seen) == 1) {
      LOG.warn("malformed DNS packet from {} ({} bytes, {} such packets so far): {}", source.getHostAddress(),
          packet.length, seen, cause.toString());
    }
    if (packet.length < Header.LENGTH) {
      return null;
    }
    try {
      Header header = new Header(java.util.Arrays.copyOf(packet, Header.LENGTH));
      if (header.getFlag(Flags.QR)) {
        return null;
      }
      Message response = new Message(header.getID());
      response.getHeader().setFlag(Flags.QR);
      response.getHeader().setOpcode(header.getOpcode());
      response.getHeader().setRcode(Rcode.FORMERR);
      return response.toWire();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private org.xbill.DNS.Name answersApiName() {
    return answers.apiName();
  }

  private static ClientSubnetOption clientSubnet(OPTRecord opt) {
    if (opt == null) {
      return null;
    }
    return opt.getOptions(EDNSOption.Code.CLIENT_SUBNET).stream()
        .filter(ClientSubnetOption.class::isInstance).map(ClientSubnetOption.class::cast).findFirst().orElse(null);
  }
}
