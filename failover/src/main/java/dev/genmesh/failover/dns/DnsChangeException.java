package dev.genmesh.failover.dns;

import org.xbill.DNS.Rcode;

/** A DNS server refused or could not confirm a change (or a read-back). */
public final class DnsChangeException extends RuntimeException {
  private final int rcode;

  public DnsChangeException(String what, int rcode) {
    super(what + ": the server answered " + Rcode.string(rcode));
    this.rcode = rcode;
  }

  public DnsChangeException(String message) {
    super(message);
    this.rcode = -1;
  }

  /** The DNS response code, or -1 when the server answered NOERROR but the answer could not be trusted. */
  public int rcode() {
    return rcode;
  }
}
