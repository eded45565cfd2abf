package dev.genmesh.region.safety;

import dev.genmesh.config.SafetyConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * A safety service the node runs beside itself when {@code safety.url} is empty. The launcher
 * hands in the reference service (safety-service module); the node never depends on it.
 */
@FunctionalInterface
public interface LocalSafetyService {
  /** Deploys the service on loopback ({@code safety.port}, 0 = any). */
  Future<Deployed> deploy(Vertx vertx, SafetyConfig config, MeterRegistry meters);

  /** Where it listens and how to undeploy it. */
  record Deployed(String baseUrl, String deploymentId) {}
}
