package dev.genmesh.launcher.impl;

import dev.genmesh.config.SafetyConfig;
import dev.genmesh.region.safety.LocalSafetyService;
import dev.genmesh.safety.SafetyVerticle;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** The reference safety service, run by a region node on loopback when {@code safety.url} is empty. */
public final class ReferenceSafety implements LocalSafetyService {
  @Override
  public Future<Deployed> deploy(Vertx vertx, SafetyConfig config, MeterRegistry meters) {
    SafetyVerticle service = new SafetyVerticle(config, "127.0.0.1", config.port(), meters);
    return vertx.deployVerticle(service).map(id -> new Deployed("http://127.0.0.1:" + service.actualPort(), id));
  }
}
