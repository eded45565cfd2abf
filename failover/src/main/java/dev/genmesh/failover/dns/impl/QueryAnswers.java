package dev.genmesh.failover.dns.impl;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Answers a query from the zone. The API name is answered by region: the client's home region
 * ({@link GeoRouting}) and the first region in its order whose name {@code <region>.<api>} has
 * addresses; every other name from its records.
 */
public final class QueryAnswers {
  private final ZoneRecords zone;
  private final GeoRouting routing;
  private final Name apiName;
  private final Map<String, Name> regionNames;
  private final long ttl;

  /**
   * What was answered: the response code, for the API name the region chosen (else empty), and the
   * prefix length of the subnet that placed the client (the EDNS Client Subnet scope; 0 otherwise).
   */
  public record Outcome(int rcode, Optional<String> region, int scopePrefix) {
    Outcome(int rcode) {
      this(rcode, Optional.empty(), 0);
    }
  }

  public QueryAnswers(ZoneRecords zone, GeoRouting routing, Name apiName, Map<String, Name> regionNames, long ttl) {
    this.zone = zone;
    this.routing = routing;
    this.apiName = apiName;
    this.regionNames = Map.copyOf(regionNames);
    this.ttl = ttl;
  }

  public Name apiName() {
    return apiName;
  }

  /** Fills {@code response} (question already there) for a client at {@code client}. */
  public Outcome answer(Record question, InetAddress client, Message response) {
    Name name = question.getName();
    int type = question.getType();
    if (!zone.inZone(name) || type == Type.AXFR || type == Type.IXFR) {
      return new Outcome(Rcode.REFUSED);
    }
    if (name.equals(apiName)) {
      return geo(type, client, response);
    }
    List<Record> records = type == Type.ANY ? zone.all(name) : zone.rrset(name, type);
    if (!records.isEmpty()) {
      records.forEach(r -> response.addRecord(r, Section.ANSWER));
      if (type == Type.NS) {
        records.forEach(ns -> glue(ns.getAdditionalName(), response));
      }
      return new Outcome(Rcode.NOERROR);
    }
    response.addRecord(zone.soa(), Section.AUTHORITY);
    return new Outcome(zone.exists(name) || regionNames.containsValue(name) ? Rcode.NOERROR : Rcode.NXDOMAIN);
  }

  /** The API name: the records of the nearest healthy region, under the API name, with the configured TTL. */
  private Outcome geo(int type, InetAddress client, Message response) {
    GeoRouting.Home home = routing.home(client);
    Optional<String> region = routing.choose(home.region(), this::healthy);
    List<Record> records = new ArrayList<>();
    region.ifPresent(r -> addresses(regionNames.get(r)).stream()
        .filter(a -> type == Type.ANY || a.getType() == type)
        .forEach(a -> records.add(Record.newRecord(apiName, a.getType(), a.getDClass(), ttl, a.rdataToWireCanonical()))));
    if (records.isEmpty()) {
      response.addRecord(zone.soa(), Section.AUTHORITY);
    }
    records.forEach(r -> response.addRecord(r, Section.ANSWER));
    return new Outcome(Rcode.NOERROR, region, home.scopePrefix());
  }

  /** A region is healthy while its name has an address (a DOWN decision withdrew them). */
  public boolean healthy(String region) {
    Name name = regionNames.get(region);
    return name != null && !addresses(name).isEmpty();
  }

  private List<Record> addresses(Name name) {
    List<Record> out = new ArrayList<>(zone.rrset(name, Type.A));
    out.addAll(zone.rrset(name, Type.AAAA));
    return out;
  }

  private void glue(Name host, Message response) {
    if (host != null && zone.inZone(host)) {
      addresses(host).forEach(r -> response.addRecord(r, Section.ADDITIONAL));
    }
  }
}
