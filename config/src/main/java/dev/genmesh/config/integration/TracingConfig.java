package dev.genmesh.config.integration;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.impl.Node;

/**
 * OpenTelemetry tracing of a request across edge, region node and worker (docs/architecture.md,
 * "Tracing"). Spans are made and exported only when {@code otlpEndpoint} is set: the default is off.
 *
 * @param otlpEndpoint where spans go, OTLP over HTTP/protobuf (e.g. {@code http://collector:4318/v1/traces}); empty: no tracing
 * @param samplingRatio the share of new traces kept (0..1); a request that arrives with a sampled
 *     {@code traceparent} is kept whatever the ratio (parent-based)
 * @param serviceName the {@code service.name} resource of this process's spans (the role is added: {@code genmesh-edge})
 */
public record TracingConfig(String otlpEndpoint, double samplingRatio, String serviceName) {

  public static TracingConfig defaults() {
    return new TracingConfig("", 1.0, "genmesh");
  }

  public boolean exports() {
    return !otlpEndpoint.isBlank();
  }

  public static TracingConfig read(Node n) {
    TracingConfig config = new TracingConfig(n.string("otlp_endpoint", ""), n.decimal("sampling_ratio", 0.0, 1.0, 1.0),
        n.string("service_name", "genmesh"));
    n.finish();
    if (config.exports() && !config.otlpEndpoint.startsWith("http://") && !config.otlpEndpoint.startsWith("https://")) {
      throw new ConfigException(n.keyPath("otlp_endpoint"), "must be an http:// or https:// URL, got '"
          + config.otlpEndpoint + "'");
    }
    return config;
  }
}
