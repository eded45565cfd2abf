package dev.genmesh.failover.dns.impl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xbill.DNS.DClass;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

/**
 * The records of one zone, by name and type, and RFC 2136 updates to them (prerequisites, then the
 * update section, all or nothing). Confined to the responder's event loop.
 */
public final class ZoneRecords {
  private final Name origin;
  private final Map<Name, Map<Integer, List<Record>>> names = new LinkedHashMap<>();
  private SOARecord soa;

  public ZoneRecords(SOARecord soa, List<NSRecord> nameservers, List<Record> glue) {
    this.origin = soa.getName();
    this.soa = soa;
    put(soa);
    nameservers.forEach(this::put);
    glue.forEach(this::put);
  }

  public Name origin() {
    return origin;
  }

  public SOARecord soa() {
    return soa;
  }

  public boolean inZone(Name name) {
    return name.subdomain(origin);
  }

  /** The records of {@code name} and {@code type} (empty when there are none). */
  public List<Record> rrset(Name name, int type) {
    return List.copyOf(names.getOrDefault(name, Map.of()).getOrDefault(type, List.of()));
  }

  /** Every record of {@code name}. */
  public List<Record> all(Name name) {
    List<Record> out = new ArrayList<>();
    names.getOrDefault(name, Map.of()).values().forEach(out::addAll);
    return out;
  }

  /** The name owns records, or is an empty non-terminal above names that do. */
  public boolean exists(Name name) {
    return names.containsKey(name) || names.keySet().stream().anyMatch(n -> !n.equals(name) && n.subdomain(name));
  }

  /** Adds the record, or replaces the TTL of an equal one. */
  public void put(Record record) {
    List<Record> rrset = names.computeIfAbsent(record.getName(), n -> new LinkedHashMap<>())
        .computeIfAbsent(record.getRRsetType(), t -> new ArrayList<>());
    rrset.remove(record);
    rrset.add(record);
  }

  /**
   * Applies an update: checks the prerequisites and the update section, then applies every change or
   * none. Returns the response code (NOERROR when applied).
   */
  public int update(List<Record> prerequisites, List<Record> changes) {
    int prerequisite = UpdatePrerequisites.check(this, prerequisites);
    if (prerequisite != Rcode.NOERROR) {
      return prerequisite;
    }
    for (Record change : changes) {
      int problem = prescan(change);
      if (problem != Rcode.NOERROR) {
        return problem;
      }
    }
    boolean changed = false;
    for (Record change : changes) {
      changed |= apply(change);
    }
    if (changed) {
      soa = new SOARecord(origin, DClass.IN, soa.getTTL(), soa.getHost(), soa.getAdmin(), soa.getSerial() + 1,
          soa.getRefresh(), soa.getRetry(), soa.getExpire(), soa.getMinimum());
      names.get(origin).put(Type.SOA, new ArrayList<>(List.of(soa)));
    }
    return Rcode.NOERROR;
  }

  /** RFC 2136 3.4.1.3. */
  private int prescan(Record change) {
    if (!inZone(change.getName())) {
      return Rcode.NOTZONE;
    }
    int type = change.getType();
    int dclass = change.getDClass();
    if (dclass == DClass.IN) {
      return meta(type) || type == Type.ANY ? Rcode.FORMERR : Rcode.NOERROR;
    }
    if (dclass == DClass.ANY) {
      return change.getTTL() != 0 || change.rdataToWireCanonical().length != 0 || meta(type) && type != Type.ANY
          ? Rcode.FORMERR : Rcode.NOERROR;
    }
    if (dclass == DClass.NONE) {
      return change.getTTL() != 0 || meta(type) || type == Type.ANY ? Rcode.FORMERR : Rcode.NOERROR;
    }
    return Rcode.FORMERR;
  }

  /** Meta and query types (RFC 6895: 128-255, and OPT) are never records of a zone. */
  private static boolean meta(int type) {
    return type == Type.OPT || type >= 128 && type <= 255;
  }

  /** RFC 2136 3.4.2; the apex keeps its SOA and NS. Returns whether anything changed. */
  private boolean apply(Record change) {
    Name name = change.getName();
    int type = change.getType();
    boolean apex = name.equals(origin);
    Map<Integer, List<Record>> types = names.get(name);
    if (change.getDClass() == DClass.IN) {
      if (type == Type.SOA || type == Type.NS && apex) {
        return false; // the responder owns its SOA serial and its NS
      }
      if (types != null && types.getOrDefault(type, List.of()).stream().anyMatch(r -> r.equals(change) && r.getTTL() == change.getTTL())) {
        return false;
      }
      put(change);
      return true;
    }
    if (types == null) {
      return false;
    }
    boolean changed;
    if (change.getDClass() == DClass.ANY) {
      List<Integer> doomed = type == Type.ANY ? new ArrayList<>(types.keySet()) : List.of(type);
      changed = false;
      for (Integer t : doomed) {
        if (!(apex && (t == Type.SOA || t == Type.NS))) {
          changed |= types.remove(t) != null;
        }
      }
    } else {
      Record target = Record.newRecord(name, type, DClass.IN, 0, change.rdataToWireCanonical());
      List<Record> rrset = types.get(type);
      boolean protectedRecord = type == Type.SOA || apex && type == Type.NS && rrset != null && rrset.size() == 1;
      changed = rrset != null && !protectedRecord && rrset.remove(target);
      if (rrset != null && rrset.isEmpty()) {
        types.remove(type);
      }
    }
    if (types.isEmpty()) {
      names.remove(name);
    }
    return changed;
  }
}
