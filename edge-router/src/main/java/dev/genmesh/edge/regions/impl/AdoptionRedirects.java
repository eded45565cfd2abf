package dev.genmesh.edge.regions.impl;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A region back from a failover answers the ids its peer adopted meanwhile with a {@code 307} to
 * the adopter (region-node/API.md, "Failover"). The edge follows it once, and only to a region
 * it knows: the {@code Location} must be one of the configured regions' API URLs, or the answer's
 * {@code region} one of their names; the edge then calls its own URL of that region with its own
 * path, never the Location as given (that would let a region's answer send the edge anywhere).
 * The adopter is remembered per id for {@link #REMEMBER_MS}, so that the next calls about the id
 * (ownership check, images, a resumed stream) go there at once.
 */
public final class AdoptionRedirects {
  private static final Logger LOG = LoggerFactory.getLogger(AdoptionRedirects.class);
  /** How long an id's adopter is remembered after a followed 307. */
  public static final long REMEMBER_MS = 60_000;
  static final int MAX_REMEMBERED = 10_000;
  static final String METRIC = "genmesh.edge.adoption.redirects";

  private final Clock clock;
  private final MeterRegistry meters;
  private volatile Map<String, RegionClient> regions = Map.of();
  private final Map<String, Remembered> byId = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Remembered> eldest) {
      return size() > MAX_REMEMBERED;
    }
  };

  private record Remembered(String region, long untilMs) {
  }

  /** A 307 the edge does not follow: to no region it knows, or a second hop. */
  public static final class NotFollowed extends RuntimeException {
    NotFollowed(String message) {
      super(message, null, false, false);
    }
  }

  public AdoptionRedirects(Clock clock, MeterRegistry meters) {
    this.clock = clock;
    this.meters = meters;
  }

  /** The regions a 307 may lead to: the edge's own clients of the configured regions. */
  void know(Map<String, RegionClient> byName) {
    this.regions = Map.copyOf(byName);
    byName.values().forEach(client -> client.followAdoptionsWith(this));
  }

  /** The region that answers for {@code requestId} after a recent 307, if any. */
  public Optional<String> remembered(String requestId) {
    synchronized (byId) {
      Remembered entry = byId.get(requestId);
      if (entry == null) {
        return Optional.empty();
      }
      if (clock.millis() >= entry.untilMs()) {
        byId.remove(requestId);
        return Optional.empty();
      }
      return Optional.of(entry.region());
    }
  }

  /**
   * The adopter a 307 of {@code from} about {@code requestId} points at, among the regions the edge
   * knows, remembered for a while; fails with {@link NotFollowed} when it is none of them.
   */
  RegionClient adopter(RegionClient from, String requestId, String location, Buffer body) {
    RegionClient target = byLocation(location).orElseGet(() -> byName(body).orElse(null));
    if (target == null || target == from) {
      count("refused");
      throw new NotFollowed("region " + from.name() + " answered 307 for " + requestId + " to "
          + (location == null ? "no Location" : location) + ", which is no other region this edge knows");
    }
    synchronized (byId) {
      byId.put(requestId, new Remembered(target.name(), clock.millis() + REMEMBER_MS));
    }
    count("followed");
    LOG.info("request {}: region {} says {} adopted it; following there", requestId, from.name(), target.name());
    return target;
  }

  /** The adopter answered 307 as well: the edge follows one hop only. */
  NotFollowed secondHop(RegionClient adopter, String requestId) {
    count("second_hop");
    synchronized (byId) {
      byId.remove(requestId);
    }
    return new NotFollowed("region " + adopter.name() + ", named adopter of " + requestId
        + ", answered 307 again; the edge follows one hop only");
  }

  private Optional<RegionClient> byLocation(String location) {
    if (location == null) {
      return Optional.empty();
    }
    URI uri;
    try {
      uri = URI.create(location.trim());
    } catch (IllegalArgumentException malformed) {
      return Optional.empty();
    }
    if (uri.getScheme() == null || uri.getHost() == null) {
      return Optional.empty();
    }
    return regions.values().stream().filter(client -> sameOrigin(client.baseUri(), uri)).findFirst();
  }

  private Optional<RegionClient> byName(Buffer body) {
    try {
      if (body != null && body.length() > 0 && Json.decodeValue(body) instanceof JsonObject answer
          && answer.getValue("region") instanceof String name) {
        return Optional.ofNullable(regions.get(name));
      }
    } catch (DecodeException notJson) {
      // no name to go by
    }
    return Optional.empty();
  }

  private static boolean sameOrigin(URI base, URI location) {
    String prefix = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
    String path = location.getRawPath() == null ? "" : location.getRawPath();
    return base.getScheme().equalsIgnoreCase(location.getScheme())
        && base.getHost().equalsIgnoreCase(location.getHost())
        && port(base) == port(location)
        && path.startsWith(prefix + "/");
  }

  private static int port(URI uri) {
    return uri.getPort() != -1 ? uri.getPort() : ("https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80);
  }

  private void count(String outcome) {
    if (meters != null) {
      meters.counter(METRIC, "outcome", outcome).increment();
    }
  }
}
