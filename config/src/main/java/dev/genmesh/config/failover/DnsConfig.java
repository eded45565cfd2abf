package dev.genmesh.config.failover;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.impl.Node;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How DNS follows the failover decisions ({@code failover.dns.*}, docs/failover.md "DNS"). The
 * zone holds one name per region, {@code <region>.<api name>}, with the addresses of the edge that
 * serves it; a DOWN decision withdraws them, an UP one publishes them again. The GeoDNS responder
 * answers the API name itself with the nearest region that has addresses.
 *
 * @param provider who applies the changes: {@code none}, {@code dry-run} (logs them) or {@code rfc2136}
 * @param zone the zone (e.g. {@code genmesh.local}), without the trailing dot
 * @param apiName the API name inside the zone (e.g. {@code api}: {@code api.genmesh.local})
 * @param ttlSeconds the TTL of every published record and every answer for the API name
 * @param edges per region, the IP addresses (v4 or v6) of the edge that serves it
 * @param flat also keep every healthy region's addresses on the API name itself (round-robin), for
 *     servers that cannot answer by client subnet (plain BIND or Knot without views)
 * @param updateTimeoutMs bound on one update or read-back
 * @param retryBackoffMs first pause before a failed change is tried again (then doubled)
 * @param retryBackoffCapMs the longest pause between two tries; a change is retried until it is
 *     applied or a newer decision about its region replaces it
 */
public record DnsConfig(Provider provider, String zone, String apiName, int ttlSeconds, Map<String, List<String>> edges,
    boolean flat, long updateTimeoutMs, long retryBackoffMs, long retryBackoffCapMs, Rfc2136 rfc2136, Tsig tsig,
    Responder responder) {

  private static final Pattern LABELS = Pattern.compile("([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Set<String> ALGORITHMS = Set.of("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256",
      "hmac-sha384", "hmac-sha512");

  public enum Provider {
    NONE, DRY_RUN, RFC2136;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * An RFC 2136 primary: BIND, Knot, PowerDNS, or the embedded responder.
   *
   * @param server {@code host:port} of the primary that accepts updates for the zone
   * @param tcp send updates and read-backs over TCP (no truncation, no spoofed answers)
   */
  public record Rfc2136(String server, boolean tcp) {}

  /**
   * The TSIG key that signs updates. The secret never lives in a config file.
   *
   * @param keyName the key's name as the server knows it
   * @param algorithm {@code hmac-sha256} (default), {@code hmac-sha512}, ...
   * @param secretFile a file holding the base64 secret, bare or as a BIND key file ({@code tsig-keygen});
   *     empty: the environment variable {@code secretEnv}
   * @param secretEnv the environment variable holding the base64 secret when {@code secretFile} is empty
   */
  public record Tsig(String keyName, String algorithm, String secretFile, String secretEnv) {}

  /**
   * The embedded authoritative GeoDNS responder that {@code genmesh up} runs.
   *
   * @param enabled {@code genmesh up} starts it and points the RFC 2136 provider at it
   * @param host the address it listens on (UDP and TCP)
   * @param port its port; 0: a free one
   * @param nameserver the label of the zone's NS name (its address is {@code host})
   * @param subnets client subnet (CIDR) to home region; the longest prefix wins
   * @param defaultRegion the home region of a client in no listed subnet
   * @param nearest per home region, the regions to answer with in order of preference
   */
  public record Responder(boolean enabled, String host, int port, String nameserver, Map<String, String> subnets,
      String defaultRegion, Map<String, List<String>> nearest) {

    public Responder {
      subnets = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(subnets));
      nearest = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(nearest));
    }

    public Responder withPort(int newPort) {
      return new Responder(enabled, host, newPort, nameserver, subnets, defaultRegion, nearest);
    }

    public Responder withSubnets(Map<String, String> newSubnets) {
      return new Responder(enabled, host, port, nameserver, newSubnets, defaultRegion, nearest);
    }
  }

  public DnsConfig {
    edges = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(edges));
  }

  /** The API name as a fully qualified name, without the trailing dot ({@code api.genmesh.local}). */
  public String apiFqdn() {
    return apiName + "." + zone;
  }

  /** The defaults of genmesh-defaults.yaml, for code that builds a configuration by hand. */
  public static DnsConfig defaults() {
    List<String> west = List.of("us-west", "us-east", "eu-west");
    return new DnsConfig(Provider.NONE, "genmesh.local", "api", 30,
        Map.of("us-west", List.of("127.0.0.11"), "us-east", List.of("127.0.0.12"), "eu-west", List.of("127.0.0.13")),
        false, 5_000, 500, 30_000, new Rfc2136("", true),
        new Tsig("genmesh-failover", "hmac-sha256", "", "GENMESH_DNS_TSIG_SECRET"),
        new Responder(true, "127.0.0.1", 0, "ns1", Map.of("127.0.0.0/8", "us-west", "10.1.0.0/16", "us-west",
            "10.2.0.0/16", "us-east", "10.3.0.0/16", "eu-west"), "us-west",
            Map.of("us-west", west, "us-east", List.of("us-east", "us-west", "eu-west"),
                "eu-west", List.of("eu-west", "us-east", "us-west"))));
  }

  public DnsConfig withProvider(Provider newProvider, Rfc2136 newRfc2136) {
    return new DnsConfig(newProvider, zone, apiName, ttlSeconds, edges, flat, updateTimeoutMs, retryBackoffMs,
        retryBackoffCapMs, newRfc2136, tsig, responder);
  }

  /** Only the edges of {@code regions} (the regions that run, e.g. {@code genmesh up --regions}). */
  public DnsConfig withEdgesOf(Set<String> regions) {
    Map<String, List<String>> kept = new LinkedHashMap<>(edges);
    kept.keySet().retainAll(regions);
    return new DnsConfig(provider, zone, apiName, ttlSeconds, kept, flat, updateTimeoutMs, retryBackoffMs,
        retryBackoffCapMs, rfc2136, tsig, responder);
  }

  public DnsConfig withResponder(Responder newResponder) {
    return new DnsConfig(provider, zone, apiName, ttlSeconds, edges, flat, updateTimeoutMs, retryBackoffMs,
        retryBackoffCapMs, rfc2136, tsig, newResponder);
  }

  public DnsConfig withRetry(long newBackoffMs, long newBackoffCapMs) {
    return new DnsConfig(provider, zone, apiName, ttlSeconds, edges, flat, updateTimeoutMs, newBackoffMs,
        newBackoffCapMs, rfc2136, tsig, responder);
  }

  public static DnsConfig read(Node n) {
    String providerName = n.string("provider", "none");
    Provider provider = switch (providerName) {
      case "none" -> Provider.NONE;
      case "dry-run" -> Provider.DRY_RUN;
      case "rfc2136" -> Provider.RFC2136;
      default -> throw new ConfigException(n.keyPath("provider"), "must be none, dry-run or rfc2136, got '"
          + providerName + "' (Route 53: see docs/failover.md)");
    };
    String zone = name(n, "zone", "genmesh.local");
    String apiName = name(n, "api_name", "api");
    int ttl = n.integer("ttl_s", 1, 86_400, 30);
    Map<String, List<String>> edges = n.has("edges") ? n.lists("edges") : Map.of();
    edges.forEach((region, addresses) -> addresses.forEach(a -> checkAddress(n.keyPath("edges." + region), a)));
    boolean flat = n.bool("flat", false);
    long timeout = n.integer("update_timeout_ms", 100L, 600_000L, 5_000L);
    long backoff = n.integer("retry_backoff_ms", 10L, 600_000L, 500L);
    long cap = n.integer("retry_backoff_cap_ms", backoff, 3_600_000L, Math.max(backoff, 30_000L));
    Rfc2136 rfc2136 = n.has("rfc2136") ? readRfc2136(n.child("rfc2136")) : new Rfc2136("", true);
    Tsig tsig = n.has("tsig") ? readTsig(n.child("tsig")) : defaults().tsig();
    Responder responder = n.has("responder") ? readResponder(n.child("responder")) : defaults().responder();
    n.finish();
    // `genmesh up` points its own provider at its responder; a configured rfc2136 provider needs a server.
    if (provider == Provider.RFC2136 && rfc2136.server().isEmpty()) {
      throw new ConfigException(n.keyPath("rfc2136.server"), "is required with provider rfc2136 (host:port of the primary)");
    }
    return new DnsConfig(provider, zone, apiName, ttl, edges, flat, timeout, backoff, cap, rfc2136, tsig, responder);
  }

  /** Every region named here must be one of {@code regions}; every region needs edge addresses to be published. */
  public void checkRegions(Set<String> regions, String path) {
    edges.keySet().forEach(r -> known(regions, path + ".edges." + r, r));
    responder.subnets().forEach((subnet, r) -> known(regions, path + ".responder.subnets." + subnet, r));
    known(regions, path + ".responder.default_region", responder.defaultRegion());
    responder.nearest().forEach((home, order) -> {
      known(regions, path + ".responder.nearest." + home, home);
      order.forEach(r -> known(regions, path + ".responder.nearest." + home, r));
    });
  }

  private static void known(Set<String> regions, String key, String region) {
    if (!regions.contains(region)) {
      throw new ConfigException(key, "names '" + region + "', which is not a region in regions " + regions);
    }
  }

  private static Rfc2136 readRfc2136(Node n) {
    Rfc2136 config = new Rfc2136(n.string("server", ""), n.bool("tcp", true));
    n.finish();
    if (!config.server().isEmpty() && !config.server().matches("\\[?[0-9A-Za-z.:-]+]?:\\d{1,5}")) {
      throw new ConfigException(n.keyPath("server"), "must be host:port, got '" + config.server() + "'");
    }
    return config;
  }

  private static Tsig readTsig(Node n) {
    String algorithm = n.string("algorithm", "hmac-sha256").toLowerCase(Locale.ROOT);
    Tsig config = new Tsig(name(n, "key_name", "genmesh-failover"), algorithm, n.string("secret_file", ""),
        n.string("secret_env", "GENMESH_DNS_TSIG_SECRET"));
    n.finish();
    if (!ALGORITHMS.contains(algorithm)) {
      throw new ConfigException(n.keyPath("algorithm"), "must be one of " + new java.util.TreeSet<>(ALGORITHMS)
          + ", got '" + algorithm + "'");
    }
    return config;
  }

  private static Responder readResponder(Node n) {
    Map<String, String> subnets = n.texts("subnets");
    subnets.keySet().forEach(s -> checkSubnet(n.keyPath("subnets"), s));
    Responder config = new Responder(n.bool("enabled", true), n.string("host", "127.0.0.1"),
        n.integer("port", 0, 65_535, 0), name(n, "nameserver", "ns1"), subnets, n.string("default_region", "us-west"),
        n.has("nearest") ? n.lists("nearest") : Map.of());
    n.finish();
    checkAddress(n.keyPath("host"), config.host());
    return config;
  }

  private static String name(Node n, String key, String fallback) {
    String value = n.string(key, fallback).toLowerCase(Locale.ROOT);
    if (value.endsWith(".")) {
      value = value.substring(0, value.length() - 1);
    }
    if (!LABELS.matcher(value).matches() || value.length() > 200) {
      throw new ConfigException(n.keyPath(key), "must be a DNS name (letters, digits, hyphens, dots), got '" + value + "'");
    }
    return value;
  }

  private static void checkSubnet(String key, String subnet) {
    int slash = subnet.indexOf('/');
    if (slash < 0) {
      throw new ConfigException(key, "has '" + subnet + "', which is not a subnet such as 10.1.0.0/16");
    }
    checkAddress(key, subnet.substring(0, slash));
    int max = subnet.contains(":") ? 128 : 32;
    try {
      int prefix = Integer.parseInt(subnet.substring(slash + 1));
      if (prefix < 0 || prefix > max) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(key, "has '" + subnet + "', whose prefix length is not 0-" + max);
    }
  }

  /** An IP literal; never a host name (that would need a lookup while reading the config). */
  private static void checkAddress(String key, String address) {
    var v4 = IPV4.matcher(address);
    boolean ok = v4.matches() ? java.util.stream.IntStream.rangeClosed(1, 4).allMatch(i -> Integer.parseInt(v4.group(i)) < 256)
        : address.contains(":") && address.matches("[0-9A-Fa-f:.]+");
    if (!ok) {
      throw new ConfigException(key, "must be an IPv4 or IPv6 address, got '" + address + "'");
    }
  }
}
