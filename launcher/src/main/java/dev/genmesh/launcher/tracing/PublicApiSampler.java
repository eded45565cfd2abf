package dev.genmesh.launcher.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;
import java.util.List;

/**
 * Which new traces start (the root sampler; a sampled parent decides for its children): only
 * requests to the public API ({@code /v1/...}), at {@code tracing.sampling_ratio}. Probes, metrics
 * scrapes and the nodes' polls of each other ({@code /health}, {@code /metrics}, failover opinions,
 * the registry) would otherwise each start a trace of their own, every second.
 */
final class PublicApiSampler implements Sampler {
  private static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
  private final Sampler ratio;

  PublicApiSampler(double ratio) {
    this.ratio = Sampler.traceIdRatioBased(ratio);
  }

  @Override
  public SamplingResult shouldSample(Context parent, String traceId, String name, SpanKind kind, Attributes attributes,
      List<LinkData> links) {
    String path = attributes.get(PATH);
    if (kind == SpanKind.SERVER && path != null && !path.startsWith("/v1/")) {
      return SamplingResult.drop();
    }
    return ratio.shouldSample(parent, traceId, name, kind, attributes, links);
  }

  @Override
  public String getDescription() {
    return "PublicApiSampler{" + ratio.getDescription() + "}";
  }
}
