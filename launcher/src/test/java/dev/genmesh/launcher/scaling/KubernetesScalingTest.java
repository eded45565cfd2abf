package dev.genmesh.launcher.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.launcher.impl.ReferenceSafety;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.RegionNodeVerticle;
import dev.genmesh.testkit.Waits;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the {@code region} role gets its Kubernetes actuator ({@link KubernetesScaling#attach}), with a
 * real region node (embedded stores, its autoscaler on) and fabric8's mock API server, which the
 * actuator's default client finds through fabric8's {@code kubernetes.master} setting as it would a
 * cluster's. And which model-mix family a model counts for when it picks workers to drain.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesScalingTest {
  private static final String REGION = "us-west";
  private static final long WAIT_S = 120;
  private static final String NS = "genmesh";
  private static final String L4 = "genmesh-worker-us-west-l4";
  private static final String A10G = "genmesh-worker-us-west-a10g";
  /** Two pools pinned above what they have (min = max): the first evaluation raises both, and no trigger can add more. */
  private static final String AUTOSCALING = """
      autoscaling:
        enabled: true
        evaluation_interval_ms: 100
        min_workers: 1
        max_workers: 10
        tier_minimums: {turbo: 0, fast: 0, relax: 0}
        pools:
          L4: {min: 2, max: 2}
          A10G: {min: 1, max: 1}
          A100-40: {min: 0, max: 0}
          A100-80: {min: 0, max: 0}
          H100: {min: 0, max: 0}
        kubernetes: {enabled: %s, namespace: %s, dry_run: false}
      """;
  private static final List<String> FABRIC8_SETTINGS = List.of("kubernetes.master", "kubernetes.auth.tryKubeConfig",
      "kubernetes.auth.tryServiceAccount");
  /** The mock server logs every request at INFO through java.util.logging; held so the level sticks. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  @TempDir static Path storesDir;
  private static EmbeddedStores stores;

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path dir;
  private final Map<String, String> savedSettings = new HashMap<>();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private Vertx vertx;

  @BeforeAll
  static void startStores() {
    stores = EmbeddedStores.start(storesDir, List.of("k8s_attach_on", "k8s_attach_off"), List.of("genmesh-" + REGION), false);
  }

  @AfterAll
  static void stopStores() {
    if (stores != null) {
      stores.close();
    }
  }

  @BeforeEach
  void pointFabric8AtTheMockServer() {
    FABRIC8_SETTINGS.forEach(key -> savedSettings.put(key, System.getProperty(key)));
    System.setProperty("kubernetes.master", server.url("/"));
    System.setProperty("kubernetes.auth.tryKubeConfig", "false");
    System.setProperty("kubernetes.auth.tryServiceAccount", "false");
    deployment(L4);
    deployment(A10G);
    vertx = Vertx.vertx();
  }

  @AfterEach
  void restore() throws Exception {
    if (vertx != null) {
      Waits.await(WAIT_S, vertx.close());
    }
    savedSettings.forEach((key, value) -> {
      if (value == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, value);
      }
    });
  }

  @Test
  void whenConfiguredTheRegionsAutoscalerScalesThePoolDeployments() throws Exception {
    RegionNodeVerticle node = node(config(true, "k8s_attach_on"));

    assertThat(KubernetesScaling.attach(vertx, config(true, "k8s_attach_on"), REGION, node, meters)).isTrue();
    deploy(node);

    Waits.eventually(WAIT_S, () -> replicas(L4) == 2 && replicas(A10G) == 1, "the pools' Deployments raised to their minimums");
    assertThat(meters.find(KubernetesActuator.SCALES).tags("region", REGION, "pool", "L4", "direction", "up").counter())
        .as("the actuator reports to the registry it was given").isNotNull()
        .extracting(Counter::count).isEqualTo(1.0);
  }

  @Test
  void whenNotConfiguredNothingReachesKubernetes() throws Exception {
    GenmeshConfig config = config(false, "k8s_attach_off");
    RegionNodeVerticle node = node(config);
    List<JsonObject> decisions = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.scalingDecisions(REGION), m -> decisions.add(m.body()));
    int requestsBefore = server.getRequestCount();

    assertThat(KubernetesScaling.attach(vertx, config, REGION, node, meters)).isFalse();
    deploy(node);

    // A second evaluation starts only once the first has handed all its decisions to the actuator.
    Waits.eventually(WAIT_S, () -> evaluations() >= 2, "two evaluations of the autoscaler");
    assertThat(decisions).extracting(d -> d.getString("pool") + " " + d.getInteger("from") + "->" + d.getInteger("to"))
        .as("what the autoscaler decided").containsExactlyInAnyOrder("L4 0->2", "A10G 0->1");
    assertThat(server.getRequestCount()).as("requests to the Kubernetes API").isEqualTo(requestsBefore);
    assertThat(replicas(L4)).isZero();
    assertThat(replicas(A10G)).isZero();
    assertThat(meters.find(KubernetesActuator.SCALES).counters()).isEmpty();
  }

  @Test
  void aModelCountsForItsConfiguredFamily() {
    GenmeshConfig config = ConfigLoader.defaults();
    assertThat(KubernetesScaling.familyOf(config, "genmesh-tiny")).isEqualTo("sdxl");
    assertThat(KubernetesScaling.familyOf(config, "genmesh-small")).isEqualTo("sd3");
    assertThat(KubernetesScaling.familyOf(config, "no-such-model")).isEqualTo("other");
    GenmeshConfig flux = ConfigLoader.load(null, Map.of("GENMESH_MODELS__GENMESH_SMALL__FAMILY", "flux"));
    assertThat(KubernetesScaling.familyOf(flux, "genmesh-small")).isEqualTo("flux");
  }

  private GenmeshConfig config(boolean kubernetes, String database) throws Exception {
    Path file = Files.writeString(dir.resolve("autoscaling-" + kubernetes + ".yaml"), AUTOSCALING.formatted(kubernetes, NS));
    GenmeshConfig loaded = ConfigLoader.load(file, Map.of());
    RegionConfig region = loaded.region(REGION).withHttpPort(0).withStores(
        new RegionConfig.PostgresConfig("127.0.0.1", stores.postgresPort(), database, "postgres", "", 4),
        new RegionConfig.RedisConfig(stores.redisUrl(), "genmesh:" + database + ":"));
    return loaded.withRegions(Map.of(REGION, region)).withImages(loaded.images().withStore(
        stores.objectStore().endpoint(), stores.objectStore().credentialsFile().toString()));
  }

  private RegionNodeVerticle node(GenmeshConfig config) {
    return new RegionNodeVerticle(config, REGION, meters, null, Clock.systemUTC())
        .withLocalSafety(new ReferenceSafety());
  }

  private void deploy(RegionNodeVerticle node) throws Exception {
    Waits.await(WAIT_S, vertx.deployVerticle(node));
  }

  private double evaluations() {
    Counter ok = meters.find("genmesh.autoscale.evaluations").tags("region", REGION, "outcome", "ok").counter();
    return ok == null ? 0 : ok.count();
  }

  private void deployment(String name) {
    Map<String, String> labels = Map.of("app.kubernetes.io/component", "worker", "genmesh.dev/region", REGION);
    client.apps().deployments().inNamespace(NS).resource(new DeploymentBuilder()
        .withNewMetadata().withName(name).withLabels(labels).endMetadata()
        .withNewSpec().withReplicas(0).withNewSelector().withMatchLabels(labels).endSelector()
        .withNewTemplate().withNewMetadata().withLabels(labels).endMetadata()
        .withNewSpec().addNewContainer().withName("genmesh").withImage("genmesh-gpu").endContainer().endSpec()
        .endTemplate().endSpec().build()).create();
  }

  private int replicas(String deployment) {
    return client.apps().deployments().inNamespace(NS).withName(deployment).get().getSpec().getReplicas();
  }
}
