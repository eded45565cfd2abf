package dev.genmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void defaultsCarryTheDesignNumbers() {
    GenmeshConfig config = ConfigLoader.defaults();

    assertThat(config.regions()).containsOnlyKeys("us-west", "us-east", "eu-west");
    assertThat(config.region("us-west").code()).isEqualTo("usw");
    assertThat(config.edge().port()).isEqualTo(8080);
    assertThat(config.autoscaling().minWorkers()).isEqualTo(20);
    assertThat(config.autoscaling().maxWorkers()).isEqualTo(200);
    assertThat(config.autoscaling().cooldownUpMs()).isEqualTo(120_000);
    assertThat(config.autoscaling().cooldownDownMs()).isEqualTo(300_000);
    assertThat(config.autoscaling().stepUp()).isEqualTo(5);
    assertThat(config.autoscaling().stepDown()).isEqualTo(3);
    assertThat(config.autoscaling().tierMinimums()).containsEntry("turbo", 5L).containsEntry("fast", 10L).containsEntry("relax", 5L);
    assertThat(config.autoscaling().modelMix()).containsEntry("sdxl", 0.60).containsEntry("flux", 0.15);
    assertThat(config.autoscaling().timeOfDay()).containsEntry("02:00", 0.3).containsEntry("10:00", 1.0);
    assertThat(config.autoscaling().scaleUp())
        .anySatisfy(t -> {
          assertThat(t.signal()).isEqualTo("depth.turbo");
          assertThat(t.above()).isTrue();
          assertThat(t.threshold()).isEqualTo(10);
          assertThat(t.forMs()).isEqualTo(30_000);
        });
    assertThat(config.health().heartbeatIntervalMs()).isEqualTo(10_000);
    assertThat(config.health().heartbeatTimeoutMs()).isEqualTo(30_000);
    assertThat(config.health().unhealthyAfterMisses()).isEqualTo(3);
    assertThat(config.breakers().model()).isEqualTo(new BreakerConfig.Breaker(5, 3, 60_000));
    assertThat(config.breakers().worker()).isEqualTo(new BreakerConfig.Breaker(3, 2, 30_000));
    assertThat(config.breakers().global().failureRate()).isEqualTo(0.10);
    assertThat(config.breakers().model().halfOpenPermits()).isEqualTo(1);
    assertThat(config.breakers().global().minOutcomes()).isEqualTo(20);
    assertThat(config.breakers().global().retryAfterMs()).isEqualTo(10_000);
    assertThat(config.queue().maxRetries()).isEqualTo(3);
    assertThat(config.queue().retryPriorityBoost()).isEqualTo(50);
    assertThat(config.queue().backoffCapMs()).isEqualTo(30_000);
    assertThat(config.queue().routingHoldMs()).isEqualTo(60_000);
    assertThat(config.queue().commitLingerUs()).isEqualTo(1_000);
    assertThat(config.models().get("genmesh-tiny").vramEstimateMb(512, 512, 2)).isEqualTo(256 + 269);
    assertThat(config.gpus()).containsOnlyKeys("A10G", "L4", "A100-40", "A100-80", "H100");
    assertThat(config.gpus().get("A100-80").vramGb()).isEqualTo(80);
    assertThat(config.routing().get("high_res")).containsExactly("A100-80", "H100");
  }

  @Test
  void fileOverridesDefaultsAndKeepsTheRest() throws Exception {
    Path file = write("edge:\n  port: 9090\nregions:\n  us-west:\n    http_port: 9191\n");

    GenmeshConfig config = ConfigLoader.load(file, Map.of());

    assertThat(config.edge().port()).isEqualTo(9090);
    assertThat(config.edge().maxPromptChars()).isEqualTo(2000);
    assertThat(config.region("us-west").httpPort()).isEqualTo(9191);
    assertThat(config.region("us-west").code()).isEqualTo("usw");
  }

  @Test
  void environmentOverridesFileWithDoubleUnderscorePaths() throws Exception {
    Path file = write("edge:\n  port: 9090\n");

    GenmeshConfig config = ConfigLoader.load(file, Map.of(
        "GENMESH_EDGE__PORT", "7070",
        "GENMESH_REGIONS__US_WEST__POSTGRES__PASSWORD", "s3cret",
        "GENMESH_WORKER__MODELS", "[genmesh-tiny]",
        "GENMESH_DATA_DIR", "/ignored/not/a/config/key",
        "PATH", "/usr/bin"));

    assertThat(config.edge().port()).isEqualTo(7070);
    assertThat(config.region("us-west").postgres().password()).isEqualTo("s3cret");
    assertThat(config.worker().models()).containsExactly("genmesh-tiny");
  }

  @Test
  void edgeLimitsHaveDefaultsAndNamedOverrides() throws Exception {
    assertThat(ConfigLoader.defaults().edge().limits()).isEqualTo(EdgeLimits.DEFAULTS)
        .isEqualTo(new EdgeLimits(10_000, 30_000, 30_000, 32));

    GenmeshConfig config = ConfigLoader.load(write("edge:\n  limits:\n    max_streams_per_client: 4\n"),
        Map.of("GENMESH_EDGE__LIMITS__BODY_TIMEOUT_MS", "5000"));

    assertThat(config.edge().limits()).isEqualTo(new EdgeLimits(10_000, 5_000, 30_000, 4));
    assertThatThrownBy(() -> ConfigLoader.load(write("edge:\n  limits:\n    keep_alive_timeout_ms: 0\n"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("edge.limits.keep_alive_timeout_ms");
  }

  @Test
  void outOfRangeValueNamesTheKey() throws Exception {
    Path file = write("regions:\n  us-east:\n    http_port: 70000\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("regions.us-east.http_port")
        .hasMessageContaining("70000");
  }

  @Test
  void theRegistryPrimaryIsAConfiguredRegionOrNone() throws Exception {
    assertThat(ConfigLoader.defaults().registry().primary()).isEqualTo("us-west");
    assertThat(ConfigLoader.defaults().registry().mirrors("us-east")).isTrue();
    assertThat(ConfigLoader.defaults().registry().mirrors("us-west")).isFalse();
    GenmeshConfig none = ConfigLoader.load(null, Map.of("GENMESH_REGISTRY__PRIMARY", ""));
    assertThat(none.registry().mirrors("us-east")).isFalse();

    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_REGISTRY__PRIMARY", "mars")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("registry.primary"))
        .hasMessageContaining("mars").hasMessageContaining("us-east");
  }

  @Test
  void wrongTypeNamesTheKey() throws Exception {
    Path file = write("queue:\n  lease_ms: soon\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("queue.lease_ms"))
        .hasMessageContaining("whole number");
  }

  @Test
  void misspelledKeyIsRejected() throws Exception {
    Path file = write("edge:\n  prot: 9090\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("edge.prot: is not a known setting");
  }

  @Test
  void badEnvironmentValueNamesTheKey() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_HEALTH__UNHEALTHY_AFTER_MISSES", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("health.unhealthy_after_misses");
  }

  @Test
  void danglingReferencesAreRejected() throws Exception {
    Path file = write("routing:\n  sdxl: [L4, B200]\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("routing.sdxl")
        .hasMessageContaining("B200");
  }

  @Test
  void brokenYamlAndMissingFileAreReported() throws Exception {
    Path broken = write("edge: [unclosed\n");

    assertThatThrownBy(() -> ConfigLoader.load(broken, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not found");
  }

  @Test
  void inconsistentModelLimitsAreRejected() throws Exception {
    Path file = write("models:\n  genmesh-tiny:\n    default_steps: 80\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("models.genmesh-tiny.default_steps");
  }

  @Test
  void apiKeysAreHashesAndRequiringThemNeedsSome() throws Exception {
    Path good = write("edge:\n  api_keys:\n    alice: " + "ab".repeat(32) + "\n");
    assertThat(ConfigLoader.load(good, Map.of()).edge().apiKeySha256()).containsEntry("alice", "ab".repeat(32));
    assertThat(ConfigLoader.defaults().edge().requireApiKey()).isFalse();

    Path plain = write("edge:\n  api_keys:\n    alice: hunter2\n");
    assertThatThrownBy(() -> ConfigLoader.load(plain, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("edge.api_keys.alice");
    // Keys required: the user database holds them, or without one the config must.
    assertThat(ConfigLoader.load(write("edge:\n  require_api_key: true\n"), Map.of()).edge().requireApiKey()).isTrue();
    Path nobody = write("edge:\n  require_api_key: true\nusers:\n  enabled: false\n");
    assertThatThrownBy(() -> ConfigLoader.load(nobody, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("edge.require_api_key");
  }

  @Test
  void theUserDatabaseNeedsItsPrimaryAndSaneLimits() throws Exception {
    UsersConfig users = ConfigLoader.defaults().users();
    assertThat(users.enabled()).isTrue();
    assertThat(users.primary().database()).isEqualTo("genmesh_users");
    assertThat(users.local()).isEqualTo(users.primary());
    assertThat(users.rateLimits().enabled()).isFalse();
    assertThat(users.rateLimits().perSecond()).containsOnlyKeys("turbo", "fast", "relax");

    assertThatThrownBy(() -> ConfigLoader.load(write("users:\n  primary_region: eu-west\n"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("users.databases");
    assertThatThrownBy(() -> ConfigLoader.load(write("users:\n  local_region: mars\n"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("users.local_region");
    assertThatThrownBy(() -> ConfigLoader.load(write("users:\n  share_key: short\n"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("users.share_key");
    assertThatThrownBy(() -> ConfigLoader.load(write("users:\n  rate_limits:\n    per_second: {ultra: 1.0}\n"), Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("users.rate_limits.burst");
  }

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("genmesh.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void autoscalingDefaultsCarryPoolsForecastAndWaitTargets() {
    AutoscalingConfig autoscaling = ConfigLoader.defaults().autoscaling();

    assertThat(autoscaling.pools()).containsOnlyKeys("A10G", "L4", "A100-40", "A100-80", "H100");
    assertThat(autoscaling.pools().get("L4").min()).isEqualTo(5);
    assertThat(autoscaling.waitTargetsMs()).containsEntry("turbo", 10_000L).containsEntry("fast", 60_000L)
        .containsEntry("relax", 600_000L);
    assertThat(autoscaling.forecast().peakQps()).isEqualTo(60.0);
    assertThat(autoscaling.forecast().horizonMs()).isEqualTo(600_000L);
    assertThat(autoscaling.modelClasses().get("flux")).containsExactly("sd3_flux");
    assertThat(ConfigLoader.defaults().gpus().get("L4").costPerUnitOfWork())
        .isLessThan(ConfigLoader.defaults().gpus().get("A10G").costPerUnitOfWork());
  }

  @Test
  void kubernetesActuatorSettingsDefaultToOffAndNameTheirKeyWhenBad() {
    AutoscalingConfig.Kubernetes kubernetes = ConfigLoader.defaults().autoscaling().kubernetes();
    assertThat(kubernetes.enabled()).isFalse();
    assertThat(kubernetes.dryRun()).isFalse();
    assertThat(kubernetes.namespace()).isEqualTo("genmesh");
    assertThat(kubernetes.deploymentName("us-west", "A100-80")).isEqualTo("genmesh-worker-us-west-a100-80");

    AutoscalingConfig.Kubernetes set = ConfigLoader.load(null, Map.of(
        "GENMESH_AUTOSCALING__KUBERNETES__ENABLED", "true", "GENMESH_AUTOSCALING__KUBERNETES__DRY_RUN", "true",
        "GENMESH_AUTOSCALING__KUBERNETES__NAMESPACE", "genmesh-us-west",
        "GENMESH_AUTOSCALING__KUBERNETES__DEPLOYMENT_PREFIX", "gpu-")).autoscaling().kubernetes();
    assertThat(set).isEqualTo(new AutoscalingConfig.Kubernetes(true, "genmesh-us-west", "gpu-", true));
    assertThat(set.deploymentName("us-west", "L4")).isEqualTo("gpu-l4");

    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__KUBERNETES__NAMESPACE", "Genmesh_West")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.kubernetes.namespace"));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__KUBERNETES__DEPLOYMENT_PREFIX", "Worker/")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.kubernetes.deployment_prefix"));
  }

  @Test
  void badAutoscalingSettingsNameTheirKey() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__SCALE_UP__TURBO_DEPTH__SIGNAL", "depth.gold")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.scale_up.turbo_depth.signal"));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__POOLS__L4__MIN", "500")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.pools.L4.min"));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__WAIT_TARGETS_MS", "{turbo: 1000, fast: 2000}")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.wait_targets_ms"));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__MODEL_MIX__SDXL", "0.9")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.model_mix"))
        .hasMessageContaining("add up to 1.0");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_AUTOSCALING__TIME_OF_DAY", "{\"25:00\": 0.5}")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("autoscaling.time_of_day.25:00");
  }

  @Test
  void autoscalingPoolsAndModelClassesMustExistInTheCatalogAndMatrix() throws Exception {
    Path pools = write("autoscaling:\n  pools:\n    T4: {min: 0, max: 10}\n");
    assertThatThrownBy(() -> ConfigLoader.load(pools, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.pools.T4"));
    Path classes = write("autoscaling:\n  model_classes:\n    sdxl: [sdxl_turbo]\n");
    assertThatThrownBy(() -> ConfigLoader.load(classes, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("autoscaling.model_classes.sdxl"));
  }

  @Test
  void modelFamiliesAreModelMixFamiliesWhoseClassesTheModelServes() throws Exception {
    GenmeshConfig defaults = ConfigLoader.load(null, Map.of());
    assertThat(defaults.models().get("genmesh-tiny").family()).isEqualTo("sdxl");
    assertThat(defaults.models().get("genmesh-small").family()).isEqualTo("sd3");
    assertThat(defaults.modelFamily("genmesh-small")).isEqualTo("sd3");
    assertThat(defaults.modelFamily("no-such-model")).isEqualTo("other");

    Path unknown = write("models:\n  genmesh-tiny:\n    family: sdxl_turbo\n");
    assertThatThrownBy(() -> ConfigLoader.load(unknown, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("models.genmesh-tiny.family"))
        .hasMessageContaining("autoscaling.model_mix");
    Path unserved = write("models:\n  genmesh-small:\n    family: sdxl\n");
    assertThatThrownBy(() -> ConfigLoader.load(unserved, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("models.genmesh-small.family"))
        .hasMessageContaining("does not serve");
  }

  @Test
  void anUnsetModelFamilyIsDerivedFromItsFirstRequestClass() throws Exception {
    Path file = write("models:\n  genmesh-small:\n    family: \"\"\n  genmesh-tiny:\n    family: \"\"\n");
    GenmeshConfig config = ConfigLoader.load(file, Map.of());
    // sd3_flux is in sd3's and flux's model_classes; sd3 is listed first.
    assertThat(config.models().get("genmesh-small").family()).isEqualTo("sd3");
    assertThat(config.models().get("genmesh-tiny").family()).isEqualTo("sdxl");
  }
}
