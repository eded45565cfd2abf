package dev.genmesh.launcher.scaling;

import dev.genmesh.autoscaler.Actuator;
import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.launcher.scaling.impl.DeploymentScaler.DeploymentState;
import dev.genmesh.launcher.scaling.impl.DeploymentScaler;
import dev.genmesh.launcher.scaling.impl.MissingDeploymentException;
import dev.genmesh.launcher.scaling.impl.MissingPodException;
import dev.genmesh.protocol.scaling.ScalingDecision;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scales one Deployment per GPU pool ({@code autoscaling.kubernetes}: Deployment
 * {@code <deployment_prefix><gpu lowercased>} in {@code namespace}) through the Kubernetes API.
 *
 * <p>Scale up = more replicas; the pods' readiness probe already waits for warm models, so a new
 * worker takes work only when ready. Scale down = fewer replicas, and Kubernetes picks the pods
 * that go (not-ready and starting pods first, then the lowest {@value #DELETION_COST}); the
 * actuator gives the pods {@link DrainCandidates} names a cost of {@value #DRAIN_COST} first.
 * Terminated pods get SIGTERM and their grace period; unfinished work returns to the queue when
 * its lease lapses.
 *
 * <p>The fabric8 calls block: they run on a one-thread worker executor, which also keeps this
 * actuator's calls to the API in order. Dry-run mode reads the Deployment (to say "from 4") but
 * writes nothing; it logs at INFO what it would do and returns it.
 *
 * <p>Failures (a pool without Deployment, an API error) are logged once, counted in
 * {@value #FAILURES} and returned as a failed future; nothing is thrown to the caller.
 */
public final class KubernetesActuator implements Actuator, AutoCloseable {
  public static final String DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";
  /** Below the default 0 of unmarked pods, with room for an operator's own lower values. */
  public static final String DRAIN_COST = "-1000";
  public static final String SCALES = "genmesh.autoscale.kubernetes.scales";
  public static final String FAILURES = "genmesh.autoscale.kubernetes.failures";
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesActuator.class);

  private final String region;
  private final AutoscalingConfig.Kubernetes settings;
  private final KubernetesClient client;
  private final boolean ownsClient;
  private final DeploymentScaler scaler;
  private final DrainCandidates candidates;
  private final WorkerExecutor executor;
  private final MeterRegistry meters;

  /** With a client of the caller's (tests: the mock server's); {@link #close} leaves it open. */
  public KubernetesActuator(Vertx vertx, String region, AutoscalingConfig.Kubernetes settings, KubernetesClient client,
      DrainCandidates candidates, MeterRegistry meters) {
    this(vertx, region, settings, client, false, candidates, meters);
  }

  private KubernetesActuator(Vertx vertx, String region, AutoscalingConfig.Kubernetes settings,
      KubernetesClient client, boolean ownsClient, DrainCandidates candidates, MeterRegistry meters) {
    this.region = region;
    this.settings = settings;
    this.client = client;
    this.ownsClient = ownsClient;
    this.scaler = new DeploymentScaler(client, settings.namespace());
    this.candidates = candidates;
    this.executor = vertx.createSharedWorkerExecutor("genmesh-k8s-actuator-" + region, 1);
    this.meters = meters;
  }

  /**
   * With fabric8's usual configuration: the pod's service account inside a cluster, else
   * {@code ~/.kube/config} or {@code KUBECONFIG}. Nothing is contacted until the first call.
   */
  public static KubernetesActuator create(Vertx vertx, String region, AutoscalingConfig.Kubernetes settings,
      DrainCandidates candidates, MeterRegistry meters) {
    return new KubernetesActuator(vertx, region, settings, new KubernetesClientBuilder().build(), true, candidates, meters);
  }

  @Override
  public Future<Void> scaleTo(String pool, int count, ScalePlan plan) {
    return scale(pool, count, plan, "scale_to").mapEmpty();
  }

  @Override
  public Future<Void> apply(ScalingDecision decision) {
    return scale(decision.pool(), decision.to(), new ScalePlan(decision.warmModels(), decision.drainModels()),
        decision.reason()).mapEmpty();
  }

  @Override
  public Future<Void> drain(String pool, String workerId) {
    return drainWorker(pool, workerId).mapEmpty();
  }

  /** Sets the pool's Deployment to {@code count} replicas, or says what it would do (dry run). */
  public Future<ScaleAction> scale(String pool, int count, ScalePlan plan, String reason) {
    if (count < 0) {
      return Future.failedFuture(new IllegalArgumentException("pool " + pool + ": count must be >= 0, got " + count));
    }
    String deployment = settings.deploymentName(region, pool);
    return blocking(() -> scaler.read(deployment))
        .compose(state -> firstToGo(pool, state, count, plan).compose(first -> act(pool, state, count, first, reason)))
        .recover(err -> failed(pool, deployment, count, reason, err));
  }

  /** On a scale-down, the pods {@link DrainCandidates} names that exist and belong to the Deployment. */
  private Future<List<String>> firstToGo(String pool, DeploymentState state, int count, ScalePlan plan) {
    int surplus = state.replicas() - count;
    if (surplus <= 0) {
      return Future.succeededFuture(List.of());
    }
    return candidates.choose(pool, surplus, plan)
        // Without a choice the scale-down still happens, in Kubernetes' own order.
        .recover(err -> {
          LOG.warn("{} pool {}: no drain candidates ({}); Kubernetes picks the pods", region, pool, err.toString());
          return Future.succeededFuture(List.of());
        })
        .compose(ids -> ids.isEmpty() ? Future.succeededFuture(ids)
            : blocking(() -> scaler.podsOf(state, ids.stream().distinct().toList())))
        .map(pods -> pods.stream().limit(surplus).toList());
  }

  /**
   * Drains one named worker: its pod gets the lowest deletion cost and the Deployment loses one
   * replica, so that this pod is the one Kubernetes terminates. The policy's next
   * {@link #scaleTo} brings the count back if the pool still needs it (a replacement).
   */
  public Future<ScaleAction> drainWorker(String pool, String workerId) {
    String deployment = settings.deploymentName(region, pool);
    String reason = "drain " + workerId;
    return blocking(() -> scaler.read(deployment))
        .compose(state -> blocking(() -> scaler.podsOf(state, List.of(workerId))).compose(found -> {
          if (found.isEmpty()) {
            return Future.failedFuture(new MissingPodException(settings.namespace(), deployment, workerId));
          }
          return act(pool, state, Math.max(0, state.replicas() - 1), found, reason);
        }))
        .recover(err -> failed(pool, deployment, -1, reason, err));
  }

  private Future<ScaleAction> act(String pool, DeploymentState state, int to, List<String> first, String reason) {
    ScaleAction action = new ScaleAction(pool, settings.namespace(), state.name(), state.replicas(), to, first,
        settings.dryRun(), describe(state.name(), state.replicas(), to, first, reason));
    if (!action.changed()) {
      LOG.debug("{} pool {}: {}", region, pool, action.description());
      return Future.succeededFuture(action);
    }
    meters.counter(SCALES, "region", region, "pool", pool, "direction", to > state.replicas() ? "up" : "down",
        "dry_run", String.valueOf(settings.dryRun())).increment();
    if (settings.dryRun()) {
      LOG.info("{} pool {}: {}", region, pool, action.description());
      return Future.succeededFuture(action);
    }
    return blocking(() -> {
      if (!first.isEmpty()) {
        scaler.markFirstToGo(state, first, DELETION_COST, DRAIN_COST);
      }
      scaler.scale(state.name(), to);
      return action;
    }).onSuccess(done -> LOG.info("{} pool {}: {}", region, pool, done.description()));
  }

  private String describe(String deployment, int from, int to, List<String> first, String reason) {
    String verb = settings.dryRun() ? "would " : "";
    if (from == to) {
      return "deployment " + deployment + " in namespace " + settings.namespace() + " already has " + to
          + " replicas (reason " + reason + ")";
    }
    String mark = first.isEmpty() ? "" : verb + "set " + DELETION_COST + "=" + DRAIN_COST + " on pods " + first + ", then ";
    String scale = (settings.dryRun() ? "would scale" : "scaled") + " deployment " + deployment + " in namespace "
        + settings.namespace() + " from " + from + " to " + to + " (reason " + reason + ")";
    return first.isEmpty() ? scale : mark + scale.replaceFirst("^would ", "");
  }

  private Future<ScaleAction> failed(String pool, String deployment, int count, String reason, Throwable err) {
    String kind = err instanceof MissingDeploymentException ? "missing_deployment"
        : err instanceof MissingPodException ? "missing_pod" : "api_error";
    meters.counter(FAILURES, "region", region, "pool", pool, "reason", kind).increment();
    String hint = kind.equals("missing_deployment")
        ? " (pool " + pool + " -> autoscaling.kubernetes.deployment_prefix + gpu lowercased; is the worker Deployment applied?)"
        : "";
    LOG.error("{} pool {}: cannot {} deployment {} in namespace {}{} ({}): {}{}", region, pool,
        count >= 0 ? "scale to " + count + " replicas" : "drain a pod of", deployment, settings.namespace(),
        settings.dryRun() ? " [dry run]" : "", reason, err.getMessage(), hint);
    return Future.failedFuture(err);
  }

  private <T> Future<T> blocking(Callable<T> call) {
    return executor.executeBlocking(call);
  }

  @Override
  public void close() {
    executor.close();
    if (ownsClient) {
      client.close();
    }
  }
}
