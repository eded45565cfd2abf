package dev.genmesh.launcher.chaos;

import dev.genmesh.embedded.FaultProxy;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The places {@code genmesh up --chaos} lets an experiment reach into: a {@link FaultProxy} in front
 * of a store (the object store, each region's PostgreSQL), named {@code objects} and
 * {@code postgres-<region>}. The mesh's clients are given the proxy's port instead of the store's;
 * without {@code --chaos} ({@link #none}) every route is the store itself.
 */
public final class FaultPoints implements AutoCloseable {
  private final boolean enabled;
  private final Map<String, FaultProxy> proxies = new LinkedHashMap<>();

  private FaultPoints(boolean enabled) {
    this.enabled = enabled;
  }

  /** No fault points: {@link #route} hands back the store's own port. */
  public static FaultPoints none() {
    return new FaultPoints(false);
  }

  /** A proxy in front of every store routed through it. */
  public static FaultPoints proxied() {
    return new FaultPoints(true);
  }

  public boolean enabled() {
    return enabled;
  }

  /** The port the mesh's clients should use for the store on {@code port}: a new proxy's, when enabled. */
  public synchronized int route(String name, int port) {
    if (!enabled) {
      return port;
    }
    FaultProxy proxy = FaultProxy.start("127.0.0.1", port);
    FaultProxy old = proxies.put(name, proxy);
    if (old != null) {
      old.close();
    }
    return proxy.port();
  }

  /** As {@link #route}, for an HTTP endpoint on loopback ({@code http://127.0.0.1:<port>}). */
  public String routeUrl(String name, String url) {
    java.net.URI direct = java.net.URI.create(url);
    return enabled ? "http://127.0.0.1:" + route(name, direct.getPort()) : url;
  }

  public synchronized Optional<FaultProxy> proxy(String name) {
    return Optional.ofNullable(proxies.get(name));
  }

  /** {@code {name: {port, delay_ms, down}}}. */
  public synchronized JsonObject describe() {
    JsonObject all = new JsonObject();
    proxies.forEach((name, proxy) -> all.put(name, new JsonObject().put("port", proxy.port())
        .put("delay_ms", proxy.delayMs()).put("down", proxy.isDown())));
    return all;
  }

  @Override
  public synchronized void close() {
    proxies.values().forEach(FaultProxy::close);
    proxies.clear();
  }
}
