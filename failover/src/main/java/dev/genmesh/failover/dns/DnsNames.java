package dev.genmesh.failover.dns;

import dev.genmesh.config.failover.DnsConfig;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

/** The names of the failover zone: the zone, the API name and each region's {@code <region>.<api name>}. */
public final class DnsNames {
  private DnsNames() {}

  public static Name zone(DnsConfig config) {
    return Name.fromConstantString(config.zone() + ".");
  }

  public static Name api(DnsConfig config) {
    return in(config, config.apiName());
  }

  /** Where a region's edge addresses live: {@code us-west.api.genmesh.local.}. */
  public static Name region(DnsConfig config, String region) {
    return in(config, region + "." + config.apiName());
  }

  /** {@code relative} inside the zone. */
  public static Name in(DnsConfig config, String relative) {
    return Name.fromConstantString(relative + "." + config.zone() + ".");
  }

  /** An IP literal (the config checked it) to an address; never a lookup. */
  public static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + literal, e);
    }
  }

  /** An A or AAAA record for {@code address}. */
  public static Record address(Name name, long ttl, InetAddress address) {
    return address instanceof Inet6Address ? new AAAARecord(name, DClass.IN, ttl, address)
        : new ARecord(name, DClass.IN, ttl, address);
  }
}
