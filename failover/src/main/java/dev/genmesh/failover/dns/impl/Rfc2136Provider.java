package dev.genmesh.failover.dns.impl;

import dev.genmesh.config.failover.DnsConfig;
import dev.genmesh.failover.dns.DnsChangeException;
import dev.genmesh.failover.dns.DnsNames;
import dev.genmesh.failover.dns.DnsProvider;
import dev.genmesh.failover.dns.TsigKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import org.xbill.DNS.Update;

/**
 * RFC 2136 dynamic updates signed with TSIG, to the zone's primary (BIND, Knot, PowerDNS, or the
 * embedded responder). A change is one update message, applied by the server as a whole; it is
 * confirmed when the server answers NOERROR signed with the same key.
 */
public final class Rfc2136Provider implements DnsProvider {
  private final Vertx vertx;
  private final DnsConfig config;
  private final TsigKey key;
  private final SimpleResolver server;

  public Rfc2136Provider(Vertx vertx, DnsConfig config, TsigKey key) {
    this.vertx = vertx;
    this.config = config;
    this.key = key;
    this.server = new SimpleResolver(socketAddress(config.rfc2136().server()));
    server.setTCP(config.rfc2136().tcp());
    server.setTimeout(Duration.ofMillis(config.updateTimeoutMs()));
    server.setTSIGKey(key.tsig());
  }

  @Override
  public Future<Void> publish(String region, List<InetAddress> addresses) {
    Update update = new Update(DnsNames.zone(config));
    Name name = DnsNames.region(config, region);
    update.delete(name, Type.A);
    update.delete(name, Type.AAAA);
    for (InetAddress address : addresses) {
      update.add(DnsNames.address(name, config.ttlSeconds(), address));
      if (config.flat()) {
        update.add(DnsNames.address(DnsNames.api(config), config.ttlSeconds(), address));
      }
    }
    return send(update, "publish " + region);
  }

  @Override
  public Future<Void> withdraw(String region) {
    Update update = new Update(DnsNames.zone(config));
    Name name = DnsNames.region(config, region);
    update.delete(name, Type.A);
    update.delete(name, Type.AAAA);
    if (config.flat()) {
      // Only this region's own addresses leave the API name; the others stay.
      config.edges().getOrDefault(region, List.of()).forEach(a ->
          update.delete(DnsNames.address(DnsNames.api(config), 0, DnsNames.ip(a))));
    }
    return send(update, "withdraw " + region);
  }

  @Override
  public Future<Map<String, List<InetAddress>>> published() {
    List<String> regions = List.copyOf(config.edges().keySet());
    List<Future<List<InetAddress>>> reads = new ArrayList<>();
    regions.forEach(r -> reads.add(read(DnsNames.region(config, r), Type.A)
        .compose(v4 -> read(DnsNames.region(config, r), Type.AAAA).map(v6 -> concat(v4, v6)))));
    return Future.all(reads).map(all -> {
      Map<String, List<InetAddress>> out = new LinkedHashMap<>();
      for (int i = 0; i < regions.size(); i++) {
        out.put(regions.get(i), reads.get(i).result());
      }
      return out;
    });
  }

  @Override
  public String describe() {
    return "rfc2136 " + config.rfc2136().server() + " (zone " + config.zone() + ", TSIG key " + key.name() + " "
        + key.algorithm() + ")";
  }

  private Future<List<InetAddress>> read(Name name, int type) {
    Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
    return call(query).compose(answer -> {
      if (answer.getRcode() != Rcode.NOERROR && answer.getRcode() != Rcode.NXDOMAIN) {
        return Future.failedFuture(new DnsChangeException("read " + name + " " + Type.string(type), answer.getRcode()));
      }
      List<InetAddress> out = new ArrayList<>();
      answer.getSection(Section.ANSWER).forEach(r -> {
        if (r instanceof ARecord a && r.getName().equals(name)) {
          out.add(a.getAddress());
        } else if (r instanceof AAAARecord a && r.getName().equals(name)) {
          out.add(a.getAddress());
        }
      });
      return Future.succeededFuture(out);
    });
  }

  private Future<Void> send(Update update, String what) {
    return call(update).compose(answer -> {
      if (answer.getRcode() != Rcode.NOERROR) {
        return Future.failedFuture(new DnsChangeException(what, answer.getRcode()));
      }
      if (!answer.isVerified()) {
        return Future.failedFuture(new DnsChangeException(what + ": the answer is not signed with key " + key.name()));
      }
      return Future.succeededFuture();
    });
  }

  private Future<Message> call(Message message) {
    return Future.fromCompletionStage(server.sendAsync(message), vertx.getOrCreateContext())
        .recover(e -> Future.failedFuture(e instanceof java.util.concurrent.CompletionException && e.getCause() != null
            ? e.getCause() : e));
  }

  private static List<InetAddress> concat(List<InetAddress> a, List<InetAddress> b) {
    List<InetAddress> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** {@code host:port} or {@code [v6]:port}; the host is an IP literal or a name resolved once here. */
  private static InetSocketAddress socketAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
    return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
