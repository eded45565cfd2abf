package dev.genmesh.launcher.scaling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.config.AutoscalingConfig;
import dev.genmesh.launcher.scaling.impl.MissingDeploymentException;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Kubernetes actuator against fabric8's mock API server in CRUD mode (it stores what it is
 * sent, like an API server without controllers: no ReplicaSet deletes pods here). There is no
 * real cluster on this machine.
 */
@ExtendWith(VertxExtension.class)
@EnableKubernetesMockClient(crud = true)
class KubernetesActuatorTest {
  private static final String NS = "genmesh";
  private static final String L4 = "genmesh-worker-us-west-l4";
  /** The mock server logs every request at INFO through java.util.logging; held so the level sticks. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  KubernetesMockServer server;
  KubernetesClient client;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<KubernetesActuator> actuators = new ArrayList<>();

  @BeforeEach
  void createWorkerDeploymentsAndPods() {
    deployment(L4, "L4", 4);
    deployment("genmesh-worker-us-west-a100-80", "A100-80", 1);
    for (int i = 1; i <= 4; i++) {
      pod(L4 + "-abc-" + i, "L4");
    }
    pod("genmesh-worker-us-west-a100-80-xyz-1", "A100-80");
  }

  @AfterEach
  void close() {
    actuators.forEach(KubernetesActuator::close);
  }

  @Test
  void scalingUpAndDownSetsTheReplicasOfThePoolsDeployment(Vertx vertx) throws Exception {
    KubernetesActuator actuator = actuator(vertx, false, DrainCandidates.NONE);

    ScaleAction up = await(actuator.scale("L4", 9, ScalePlan.NONE, "predicted_high"));
    assertThat(replicas(L4)).isEqualTo(9);
    assertThat(up.from()).isEqualTo(4);
    assertThat(up.description())
        .isEqualTo("scaled deployment genmesh-worker-us-west-l4 in namespace genmesh from 4 to 9 (reason predicted_high)");

    await(actuator.scaleTo("L4", 6, ScalePlan.NONE));
    assertThat(replicas(L4)).isEqualTo(6);
    assertThat(replicas("genmesh-worker-us-west-a100-80")).as("other pools untouched").isEqualTo(1);
    assertThat(annotated()).as("no candidates: no deletion cost set").isEmpty();

    ScaleAction same = await(actuator.scale("L4", 6, ScalePlan.NONE, "queues_low"));
    assertThat(same.changed()).isFalse();
    assertThat(meters.counter(KubernetesActuator.SCALES, "region", "us-west", "pool", "L4", "direction", "up",
        "dry_run", "false").count()).isEqualTo(1);
    assertThat(meters.counter(KubernetesActuator.SCALES, "region", "us-west", "pool", "L4", "direction", "down",
        "dry_run", "false").count()).isEqualTo(1);
  }

  @Test
  void dryRunChangesNothingAndSaysWhatItWouldDo(Vertx vertx) throws Exception {
    KubernetesActuator actuator = actuator(vertx, true, (pool, surplus, plan) -> Future.succeededFuture(List.of(L4 + "-abc-2")));

    ScaleAction up = await(actuator.scale("L4", 9, ScalePlan.NONE, "predicted_high"));
    assertThat(up.dryRun()).isTrue();
    assertThat(up.description())
        .isEqualTo("would scale deployment genmesh-worker-us-west-l4 in namespace genmesh from 4 to 9 (reason predicted_high)");

    ScaleAction down = await(actuator.scale("L4", 2, ScalePlan.NONE, "queues_low"));
    assertThat(down.drained()).containsExactly(L4 + "-abc-2");
    assertThat(down.description()).isEqualTo("would set controller.kubernetes.io/pod-deletion-cost=-1000 on pods ["
        + L4 + "-abc-2], then scale deployment genmesh-worker-us-west-l4 in namespace genmesh from 4 to 2 (reason queues_low)");

    ScaleAction drain = await(actuator.drainWorker("L4", L4 + "-abc-3"));
    assertThat(drain.to()).isEqualTo(3);

    assertThat(replicas(L4)).isEqualTo(4);
    assertThat(annotated()).isEmpty();
  }

  @Test
  void aPoolWithoutDeploymentFailsClearlyAndIsCounted(Vertx vertx) {
    KubernetesActuator actuator = actuator(vertx, false, DrainCandidates.NONE);

    assertThatThrownBy(() -> await(actuator.scaleTo("H100", 3, ScalePlan.NONE)))
        .hasCauseInstanceOf(MissingDeploymentException.class)
        .hasMessageContaining("no deployment genmesh-worker-us-west-h100 in namespace genmesh");
    assertThat(meters.counter(KubernetesActuator.FAILURES, "region", "us-west", "pool", "H100", "reason",
        "missing_deployment").count()).isEqualTo(1);
    assertThat(client.apps().deployments().inNamespace(NS).withName("genmesh-worker-us-west-h100").get())
        .as("nothing created").isNull();

    KubernetesActuator dryRun = actuator(vertx, true, DrainCandidates.NONE);
    assertThatThrownBy(() -> await(dryRun.scaleTo("H100", 3, ScalePlan.NONE)))
        .hasCauseInstanceOf(MissingDeploymentException.class);
  }

  @Test
  void scaleDownGivesTheChosenIdlePodsTheLowestDeletionCostFirst(Vertx vertx) throws Exception {
    // A mark left by an earlier scale-down that Kubernetes resolved differently.
    client.pods().inNamespace(NS).withName(L4 + "-abc-4").edit(p -> new PodBuilder(p).editMetadata()
        .addToAnnotations(KubernetesActuator.DELETION_COST, KubernetesActuator.DRAIN_COST).endMetadata().build());
    List<Object> asked = new ArrayList<>();
    KubernetesActuator actuator = actuator(vertx, false, (pool, surplus, plan) -> {
      asked.add(List.of(pool, surplus, plan.drainModels()));
      // Unknown pods and pods of another pool are skipped; more than the surplus are ignored.
      return Future.succeededFuture(List.of("gone-pod", "genmesh-worker-us-west-a100-80-xyz-1", L4 + "-abc-2",
          L4 + "-abc-3", L4 + "-abc-1"));
    });

    ScaleAction down = await(actuator.scale("L4", 2, new ScalePlan(Map.of(), List.of("flux")), "queues_low"));

    assertThat(asked).containsExactly(List.of("L4", 2, List.of("flux")));
    assertThat(down.drained()).containsExactly(L4 + "-abc-2", L4 + "-abc-3");
    assertThat(annotated()).containsOnlyKeys(L4 + "-abc-2", L4 + "-abc-3")
        .containsValue(KubernetesActuator.DRAIN_COST);
    assertThat(replicas(L4)).isEqualTo(2);

    await(actuator.scaleTo("L4", 5, ScalePlan.NONE));
    assertThat(asked).as("no candidates asked for on a scale-up").hasSize(1);
  }

  @Test
  void failingDrainCandidatesStillScaleDownInKubernetesOrder(Vertx vertx) throws Exception {
    KubernetesActuator actuator = actuator(vertx, false,
        (pool, surplus, plan) -> Future.failedFuture(new IllegalStateException("registry not ready")));

    ScaleAction down = await(actuator.scale("L4", 3, ScalePlan.NONE, "queues_low"));

    assertThat(down.drained()).isEmpty();
    assertThat(replicas(L4)).isEqualTo(3);
    assertThat(annotated()).isEmpty();
  }

  @Test
  void drainingAWorkerMarksItsPodAndTakesOneReplica(Vertx vertx) throws Exception {
    KubernetesActuator actuator = actuator(vertx, false, DrainCandidates.NONE);

    await(actuator.drain("L4", L4 + "-abc-3"));
    assertThat(annotated()).containsOnlyKeys(L4 + "-abc-3");
    assertThat(replicas(L4)).isEqualTo(3);

    assertThatThrownBy(() -> await(actuator.drain("L4", "genmesh-worker-us-west-a100-80-xyz-1")))
        .hasMessageContaining("no pod genmesh-worker-us-west-a100-80-xyz-1 of deployment genmesh-worker-us-west-l4");
    assertThat(replicas(L4)).isEqualTo(3);
    assertThat(meters.counter(KubernetesActuator.FAILURES, "region", "us-west", "pool", "L4", "reason", "missing_pod")
        .count()).isEqualTo(1);
  }

  @Test
  void anUnreachableApiServerFailsTheCallAndIsCountedAsAnApiError(Vertx vertx) throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    try (KubernetesClient nowhere = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
        .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder().withMasterUrl("http://127.0.0.1:" + closedPort)
            .withRequestRetryBackoffLimit(0).withConnectionTimeout(2_000).build()).build()) {
      var settings = new AutoscalingConfig.Kubernetes(true, NS, "genmesh-worker-{region}-", false);
      KubernetesActuator actuator = new KubernetesActuator(vertx, "us-west", settings, nowhere, DrainCandidates.NONE, meters);
      actuators.add(actuator);

      assertThatThrownBy(() -> await(actuator.scaleTo("L4", 5, ScalePlan.NONE)))
          .hasCauseInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class);
      assertThat(meters.counter(KubernetesActuator.FAILURES, "region", "us-west", "pool", "L4", "reason", "api_error")
          .count()).isEqualTo(1);
    }
  }

  private KubernetesActuator actuator(Vertx vertx, boolean dryRun, DrainCandidates candidates) {
    var settings = new AutoscalingConfig.Kubernetes(true, NS, "genmesh-worker-{region}-", dryRun);
    KubernetesActuator actuator = new KubernetesActuator(vertx, "us-west", settings, client, candidates, meters);
    actuators.add(actuator);
    return actuator;
  }

  private void deployment(String name, String gpu, int replicas) {
    Map<String, String> labels = Map.of("app.kubernetes.io/component", "worker", "genmesh.dev/gpu-class", gpu,
        "genmesh.dev/region", "us-west");
    client.apps().deployments().inNamespace(NS).resource(new DeploymentBuilder()
        .withNewMetadata().withName(name).withLabels(labels).endMetadata()
        .withNewSpec().withReplicas(replicas).withNewSelector().withMatchLabels(labels).endSelector()
        .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata()
        .withNewSpec().addNewContainer().withName("genmesh").withImage("genmesh-gpu").endContainer().endSpec()
        .endTemplate().endSpec().build()).create();
  }

  private void pod(String name, String gpu) {
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName(name)
        .withLabels(Map.of("app.kubernetes.io/component", "worker", "genmesh.dev/gpu-class", gpu,
            "genmesh.dev/region", "us-west", "pod-template-hash", "abc"))
        .endMetadata().withNewSpec().addNewContainer().withName("genmesh").withImage("genmesh-gpu").endContainer()
        .endSpec().build()).create();
  }

  private int replicas(String deployment) {
    return client.apps().deployments().inNamespace(NS).withName(deployment).get().getSpec().getReplicas();
  }

  /** Pod name → deletion cost, for the pods that have one. */
  private Map<String, String> annotated() {
    Map<String, String> out = new java.util.TreeMap<>();
    for (Pod pod : client.pods().inNamespace(NS).list().getItems()) {
      Map<String, String> annotations = pod.getMetadata().getAnnotations();
      if (annotations != null && annotations.containsKey(KubernetesActuator.DELETION_COST)) {
        out.put(pod.getMetadata().getName(), annotations.get(KubernetesActuator.DELETION_COST));
      }
    }
    return out;
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new RuntimeException(e.getCause().getMessage(), e.getCause());
    }
  }
}
