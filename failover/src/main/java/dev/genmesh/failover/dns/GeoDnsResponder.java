package dev.genmesh.failover.dns;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.failover.dns.impl.DnsHandler;
import dev.genmesh.failover.dns.impl.GeoRouting;
import dev.genmesh.failover.dns.impl.QueryAnswers;
import dev.genmesh.failover.dns.impl.ZoneRecords;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;

/**
 * The embedded authoritative GeoDNS responder (docs/failover.md, "DNS"): serves the zone over UDP
 * and TCP, answers the API name with the edge addresses of the client's nearest healthy region
 * (EDNS Client Subnet when present, else the source address), and accepts RFC 2136 updates signed
 * with its TSIG key, so the {@code rfc2136} provider drives it as it would drive BIND.
 */
public final class GeoDnsResponder extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(GeoDnsResponder.class);
  private static final int PORT_TRIES = 10;

  private final DnsConfig config;
  private final TsigKey key;
  private final MeterRegistry meters;
  private final boolean seed;
  private DnsHandler handler;
  private DatagramSocket udp;
  private NetServer tcp;
  private int port;

  /**
   * @param seed publish every region of {@code failover.dns.edges} at start (all healthy until a
   *     DOWN decision withdraws one); false: start with no region and wait for updates
   */
  public GeoDnsResponder(DnsConfig config, TsigKey key, MeterRegistry meters, boolean seed) {
    this.config = config;
    this.key = key;
    this.meters = meters;
    this.seed = seed;
  }

  @Override
  public Future<?> start() {
    handler = handlerFor(zone());
    return listen(config.responder().port(), PORT_TRIES).onSuccess(v -> LOG.info(
        "GeoDNS responder for {} on {} (UDP and TCP), zone {}", config.apiFqdn(), address(), config.zone()));
  }

  @Override
  public Future<?> stop() {
    Future<Void> closeUdp = udp == null ? Future.succeededFuture() : udp.close();
    Future<Void> closeTcp = tcp == null ? Future.succeededFuture() : tcp.close();
    return Future.join(closeUdp, closeTcp);
  }

  /** The port it listens on (UDP and TCP). */
  public int port() {
    return port;
  }

  /** {@code host:port}, as the {@code rfc2136.server} key wants it. */
  public String address() {
    return config.responder().host() + ":" + port;
  }

  /** TCP first (port 0 picks one), then UDP on the same port; a port taken for UDP is tried again. */
  private Future<Void> listen(int wanted, int triesLeft) {
    String host = config.responder().host();
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost(host).setPort(wanted).setIdleTimeout(30))
        .connectHandler(this::serveTcp);
    return server.listen().compose(listening -> vertx.createDatagramSocket(new DatagramSocketOptions())
        .handler(this::serveUdp).listen(listening.actualPort(), host)
        .<Void>map(socket -> {
          tcp = listening;
          udp = socket;
          port = listening.actualPort();
          return null;
        })
        .recover(e -> listening.close().transform(closed -> wanted == 0 && triesLeft > 1
            ? listen(0, triesLeft - 1) : Future.failedFuture(e))));
  }

  private void serveUdp(DatagramPacket packet) {
    InetAddress source = DnsNames.ip(packet.sender().hostAddress());
    byte[] answer = handler.handle(packet.data().getBytes(), source, false);
    if (answer != null) {
      udp.send(Buffer.buffer(answer), packet.sender().port(), packet.sender().hostAddress())
          .onFailure(e -> LOG.debug("could not answer {}: {}", packet.sender(), e.toString()));
    }
  }

  /** DNS over TCP: each message behind a two-byte length (RFC 1035 4.2.2). */
  private void serveTcp(NetSocket socket) {
    InetAddress source = DnsNames.ip(socket.remoteAddress().hostAddress());
    RecordParser parser = RecordParser.newFixed(2);
    boolean[] readingLength = {true};
    parser.handler(chunk -> {
      if (readingLength[0]) {
        int length = chunk.getUnsignedShort(0);
        if (length == 0) {
          socket.close();
          return;
        }
        parser.fixedSizeMode(length);
        readingLength[0] = false;
        return;
      }
      parser.fixedSizeMode(2);
      readingLength[0] = true;
      byte[] answer = handler.handle(chunk.getBytes(), source, true);
      if (answer == null) {
        socket.close();
        return;
      }
      socket.write(Buffer.buffer(answer.length + 2).appendUnsignedShort(answer.length).appendBytes(answer));
    });
    socket.handler(parser);
  }

  private DnsHandler handlerFor(ZoneRecords zone) {
    Set<String> regions = regions();
    Map<String, Name> regionNames = new LinkedHashMap<>();
    regions.forEach(r -> regionNames.put(r, DnsNames.region(config, r)));
    QueryAnswers answers = new QueryAnswers(zone, new GeoRouting(config.responder(), regions),
        DnsNames.api(config), regionNames, config.ttlSeconds());
    return new DnsHandler(zone, answers, key, meters);
  }

  /** The zone at start: SOA, NS with its address, and (seeded) every region's edge addresses. */
  private ZoneRecords zone() {
    Name origin = DnsNames.zone(config);
    Name ns = DnsNames.in(config, config.responder().nameserver());
    long ttl = config.ttlSeconds();
    SOARecord soa = new SOARecord(origin, DClass.IN, ttl, ns, DnsNames.in(config, "hostmaster"), 1, 3600, 600,
        86_400, ttl);
    ZoneRecords zone = new ZoneRecords(soa, List.of(new NSRecord(origin, DClass.IN, ttl, ns)),
        List.of(DnsNames.address(ns, ttl, DnsNames.ip(config.responder().host()))));
    if (seed) {
      config.edges().forEach((region, addresses) -> addresses.forEach(a ->
          zone.put(DnsNames.address(DnsNames.region(config, region), ttl, DnsNames.ip(a)))));
    }
    return zone;
  }

  private Set<String> regions() {
    Set<String> regions = new LinkedHashSet<>(config.edges().keySet());
    config.responder().nearest().forEach((home, order) -> {
      regions.add(home);
      regions.addAll(order);
    });
    regions.addAll(config.responder().subnets().values());
    regions.add(config.responder().defaultRegion());
    return regions;
  }
}
