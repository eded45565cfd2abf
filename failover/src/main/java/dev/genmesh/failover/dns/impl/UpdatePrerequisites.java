package dev.genmesh.failover.dns.impl;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/** The prerequisite section of an RFC 2136 update (3.2): each must hold or nothing is applied. */
final class UpdatePrerequisites {
  private UpdatePrerequisites() {}

  static int check(ZoneRecords zone, List<Record> prerequisites) {
    Map<String, Set<Record>> valueDependent = new LinkedHashMap<>();
    for (Record p : prerequisites) {
      Name name = p.getName();
      int type = p.getType();
      if (!zone.inZone(name)) {
        return Rcode.NOTZONE;
      }
      if (p.getTTL() != 0) {
        return Rcode.FORMERR;
      }
      int result;
      if (p.getDClass() == DClass.ANY) {
        result = type == Type.ANY ? (zone.all(name).isEmpty() ? Rcode.NXDOMAIN : Rcode.NOERROR)
            : (zone.rrset(name, type).isEmpty() ? Rcode.NXRRSET : Rcode.NOERROR);
      } else if (p.getDClass() == DClass.NONE) {
        result = type == Type.ANY ? (zone.all(name).isEmpty() ? Rcode.NOERROR : Rcode.YXDOMAIN)
            : (zone.rrset(name, type).isEmpty() ? Rcode.NOERROR : Rcode.YXRRSET);
      } else if (p.getDClass() == DClass.IN) {
        valueDependent.computeIfAbsent(name + "/" + type, k -> new HashSet<>()).add(p);
        result = Rcode.NOERROR;
      } else {
        result = Rcode.FORMERR;
      }
      if (result != Rcode.NOERROR) {
        return result;
      }
    }
    for (Set<Record> expected : valueDependent.values()) {
      Record any = expected.iterator().next();
      // Record equality ignores the TTL: the RRset must hold exactly these records.
      if (!new HashSet<>(zone.rrset(any.getName(), any.getType())).equals(expected)) {
        return Rcode.NXRRSET;
      }
    }
    return Rcode.NOERROR;
  }
}
