package dev.genmesh.region.safety;

import dev.genmesh.config.SafetyConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.safety.impl.SafetyLog;
import dev.genmesh.region.safety.impl.SafetyMetrics;
import dev.genmesh.region.safety.impl.SafetySweeper;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region node's safety gate and what it needs (region-node/SAFETY.md): the Safety API at
 * {@code safety.url}, or, when that is empty, the reference service deployed by this node on
 * loopback ({@code safety.port}, 0 = any) that the launcher hands in; the client with its circuit breaker, the gate results
 * pass, and the sweeper that retries what waits for a check.
 */
public final class RegionSafety {
  private static final Logger LOG = LoggerFactory.getLogger(RegionSafety.class);

  private final Vertx vertx;
  private final String region;
  private final SafetyClient client;
  private final SafetyMetrics metrics;
  private final SafetyGate gate;
  private final SafetySweeper sweeper;
  private final String referenceDeployment;

  private RegionSafety(Vertx vertx, String region, SafetyClient client, SafetyMetrics metrics, SafetyGate gate,
      SafetySweeper sweeper, String referenceDeployment) {
    this.vertx = vertx;
    this.region = region;
    this.client = client;
    this.metrics = metrics;
    this.gate = gate;
    this.sweeper = sweeper;
    this.referenceDeployment = referenceDeployment;
  }

  /** Deploys the reference service if no {@code safety.url} is set, then builds the gate (its sweeper not started). */
  public static Future<RegionSafety> start(RegionContext ctx, Pool pool, ImageStore images, LocalSafetyService local) {
    Vertx vertx = ctx.vertx();
    String region = ctx.region();
    SafetyConfig safety = ctx.config().safety();
    Future<LocalSafetyService.Deployed> service;
    if (!safety.url().isEmpty()) {
      service = Future.succeededFuture(new LocalSafetyService.Deployed(safety.url(), null));
    } else if (local == null) {
      service = Future.failedFuture("safety.url is empty and no local safety service was given to the node");
    } else {
      service = local.deploy(vertx, safety, ctx.meters());
    }
    return service.map(found -> {
      SafetyClient client = new SafetyClient(vertx, region, safety, found.baseUrl(), ctx.meters());
      SafetyMetrics metrics = new SafetyMetrics(ctx.meters(), region);
      SafetyLog safetyLog = new SafetyLog(pool, ctx.log());
      SafetyGate gate = new SafetyGate(ctx, client, safetyLog, images, metrics);
      SafetySweeper sweeper = new SafetySweeper(ctx, safetyLog, gate, client, metrics);
      LOG.info("region {}: safety checks go to {}{}", region, client.checkUrl(),
          found.deploymentId() == null ? "" : " (a local service, run by this node)");
      return new RegionSafety(vertx, region, client, metrics, gate, sweeper, found.deploymentId());
    }).recover(err -> Future.failedFuture(new IllegalStateException("safety gate: " + err.getMessage(), err)));
  }

  public SafetyGate gate() {
    return gate;
  }

  /** Where checks go ({@code .../v1/check}). */
  public String checkUrl() {
    return client.checkUrl();
  }

  /** Starts sweeping what waits for a check (once the node serves). */
  public void startSweeping() {
    sweeper.start();
  }

  /** Stops the sweeper and the client, then the reference service if this node runs it; never fails. */
  public Future<Void> stop() {
    sweeper.stop();
    client.close();
    // Closing Vert.x undeploys everything itself, the reference service possibly first.
    boolean deployed = referenceDeployment != null && vertx.deploymentIDs().contains(referenceDeployment);
    Future<Void> undeployed = deployed ? vertx.undeploy(referenceDeployment) : Future.succeededFuture();
    return undeployed.transform(ar -> {
      if (ar.failed()) {
        LOG.warn("region {}: the reference safety service did not stop cleanly: {}", region, ar.cause().toString());
      }
      metrics.close();
      return Future.<Void>succeededFuture();
    });
  }
}
