package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.fail;

import static dev.genmesh.launcher.K8sManifests.*;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.config.RegionConfig;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks the Kubernetes manifests under {@code k8s/} without a cluster: every YAML file parses,
 * the kustomizations point at files that exist, the probes hit the health endpoints on declared
 * ports, workers ask for a GPU on their pool, no secret value is committed, and the ConfigMap's
 * genmesh.yaml (with the env names the manifests and Secret templates set) loads through
 * {@link ConfigLoader} and agrees with the Services and ports of the manifests.
 *
 * <p>Where {@code kubectl} is on the PATH, each overlay is also rendered with
 * {@code kubectl kustomize} and the rendered objects are checked (skipped elsewhere). Nothing
 * here applies anything to a cluster.
 */
class KubernetesManifestsTest {
  private static final String PLACEHOLDER = "REPLACE_ME";
  private static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");
  private static final String REGION_LABEL = "genmesh.dev/region";
  private static final String GPU_LABEL = "genmesh.dev/gpu-class";
  private static final String COMPONENT = "app.kubernetes.io/component";
  private static final String GPU = "nvidia.com/gpu";
  private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(PASSWORD|SECRET|TOKEN|REDIS__URL).*");


  // ---------------------------------------------------------------- files and documents

  @Test
  void everyYamlFileParsesAndEveryManifestNamesItself() throws IOException {
    List<Path> files = yamlFiles();
    assertThat(files).as("YAML files under %s", K8S).hasSizeGreaterThan(10);
    for (Path file : files) {
      assertThatCode(() -> loadAll(file)).as("%s parses", file).doesNotThrowAnyException();
    }
    List<Doc> manifests = manifests();
    assertThat(manifests).hasSizeGreaterThan(10);
    for (Doc doc : manifests) {
      assertThat(str(doc.body().get("apiVersion"))).as("apiVersion of %s", doc.file()).isNotBlank();
      assertThat(str(doc.body().get("kind"))).as("kind of %s", doc.file()).isNotBlank();
      assertThat(doc.body().get("metadata")).as("metadata of %s", doc.file()).isInstanceOf(Map.class);
      assertThat(doc.name()).as("metadata.name of %s", doc.file()).isNotBlank();
    }
    assertThat(manifests.stream().map(Doc::kind).collect(Collectors.toSet()))
        .contains("Namespace", "Deployment", "Service", "PodDisruptionBudget", "Secret");
  }

  @Test
  void kustomizationsPointAtFilesThatExist() throws IOException {
    List<Path> kustomizations = kustomizations();
    assertThat(kustomizations.stream().map(k -> K8S.relativize(k.getParent()).toString().replace(File.separatorChar, '/')))
        .contains("base", "base/region", "base/edge", "overlays/us-west", "overlays/us-east", "overlays/eu-west",
            "overlays/edge");
    for (Path kustomization : kustomizations) {
      Map<String, Object> k = single(kustomization);
      Path dir = kustomization.getParent();
      assertThat(str(k.get("kind"))).as("kind of %s", kustomization).isEqualTo("Kustomization");
      for (String resource : strings(k.get("resources"))) {
        Path target = dir.resolve(resource).normalize();
        assertThat(Files.isRegularFile(target) || Files.isRegularFile(target.resolve("kustomization.yaml")))
            .as("%s: resource %s exists (a file, or a folder with a kustomization.yaml)", kustomization, resource)
            .isTrue();
      }
      for (String component : strings(k.get("components"))) {
        assertThat(dir.resolve(component).resolve("kustomization.yaml")).as("%s: component", kustomization).isRegularFile();
      }
      for (Object patch : list(k.get("patches"))) {
        Map<String, Object> p = map(patch);
        assertThat(p.containsKey("path") || p.containsKey("patch")).as("%s: a patch has path or patch", kustomization).isTrue();
        if (p.containsKey("path")) {
          assertThat(dir.resolve(str(p.get("path")))).as("%s: patch file", kustomization).isRegularFile();
        }
      }
      for (String patch : strings(k.get("patchesStrategicMerge"))) {
        assertThat(dir.resolve(patch)).as("%s: patch file", kustomization).isRegularFile();
      }
      for (Path source : generatorSources(kustomization)) {
        assertThat(source).as("%s: generator source", kustomization).isRegularFile();
      }
    }
  }

  // ---------------------------------------------------------------- deployments

  @Test
  void deploymentsProbeTheHealthEndpointsOnADeclaredPort() throws IOException {
    List<Doc> deployments = ofKind("Deployment");
    assertThat(deployments).hasSizeGreaterThanOrEqualTo(4);
    for (Doc deployment : deployments) {
      Map<String, Object> pod = podSpec(deployment);
      assertThat(pod.get("terminationGracePeriodSeconds")).as("%s: terminationGracePeriodSeconds", deployment).isNotNull();
      boolean worker = "worker".equals(podLabels(deployment).get(COMPONENT));
      for (Object c : list(pod.get("containers"))) {
        Map<String, Object> container = map(c);
        Map<String, Integer> ports = declaredPorts(container);
        assertThat(ports).as("%s: declared container ports", deployment).isNotEmpty();
        Map<String, Object> liveness = map(container.get("livenessProbe"));
        Map<String, Object> readiness = map(container.get("readinessProbe"));
        assertThat(liveness).as("%s: livenessProbe", deployment).isNotEmpty();
        assertThat(readiness).as("%s: readinessProbe", deployment).isNotEmpty();
        for (Map<String, Object> probe : List.of(liveness, readiness)) {
          assertThat(((Number) probe.getOrDefault("timeoutSeconds", 1)).intValue())
              .as("%s: probe timeout (the region's readiness checks take up to 2 s)", deployment).isGreaterThanOrEqualTo(3);
        }
        assertHttpProbe(deployment, liveness, "/health/live", ports);
        assertHttpProbe(deployment, readiness, "/health/ready", ports);
        if (container.containsKey("startupProbe")) {
          assertHttpProbe(deployment, map(container.get("startupProbe")), "/health/live", ports);
        }
        if (worker) {
          // The worker's own HTTP port (WorkerHttp): the probes hit it by name, and the port the
          // worker listens on (GENMESH_WORKER__HTTP_PORT) is the one declared under that name.
          assertThat(map(liveness.get("httpGet")).get("port")).as("%s: probes on the named port", deployment).isEqualTo("http");
          assertThat(map(readiness.get("httpGet")).get("port")).as("%s: probes on the named port", deployment).isEqualTo("http");
          assertThat(container).as("%s: a startup probe (models load before live matters)", deployment).containsKey("startupProbe");
          String httpPort = env(container).get("GENMESH_WORKER__HTTP_PORT");
          assertThat(httpPort).as("%s: GENMESH_WORKER__HTTP_PORT", deployment).isNotNull();
          assertThat(ports.get("http")).as("%s: container port http = the worker's HTTP port", deployment)
              .isEqualTo(Integer.parseInt(httpPort));
          assertThat(((Number) pod.get("terminationGracePeriodSeconds")).intValue())
              .as("%s: grace for a generation to finish", deployment).isGreaterThanOrEqualTo(120);
        }
        assertThat(map(map(container.get("resources")).get("requests"))).as("%s: resource requests", deployment)
            .containsKeys("cpu", "memory");
        assertThat(map(map(container.get("resources")).get("limits"))).as("%s: memory limit", deployment).containsKey("memory");
      }
    }
  }

  @Test
  void workersRequestOneGpuOnThePoolOfTheirClass() throws IOException {
    GenmeshConfig config = ConfigLoader.load(configFile(), Map.of());
    Set<String> classes = new TreeSet<>();
    for (Doc deployment : ofKind("Deployment")) {
      if (!"worker".equals(podLabels(deployment).get(COMPONENT))) {
        continue;
      }
      Map<String, Object> spec = map(deployment.body().get("spec"));
      assertThat(spec).as("%s: no replicas, the autoscaler owns them", deployment).doesNotContainKey("replicas");
      Map<String, Object> pod = podSpec(deployment);
      Map<String, Object> container = map(list(pod.get("containers")).get(0));
      Map<String, Object> resources = map(container.get("resources"));
      assertThat(map(resources.get("requests")).get(GPU)).as("%s: GPU request", deployment).isEqualTo(1);
      assertThat(map(resources.get("limits")).get(GPU)).as("%s: GPU limit", deployment).isEqualTo(1);

      String gpuClass = env(container).get("GENMESH_WORKER__GPU_CLASS");
      assertThat(config.gpus()).as("%s: GPU class in the config's catalog", deployment).containsKey(gpuClass);
      classes.add(gpuClass);
      assertThat(deployment.name()).as("predictable name for the autoscaler").isEqualTo("genmesh-worker-" + gpuClass.toLowerCase());
      assertThat(map(pod.get("nodeSelector"))).as("%s: GPU pool", deployment).containsEntry(GPU_LABEL, gpuClass);
      assertThat(podLabels(deployment)).containsEntry(GPU_LABEL, gpuClass);
      assertThat(list(pod.get("tolerations")).stream().map(t -> str(map(t).get("key"))))
          .as("%s: tolerates the GPU taint", deployment).contains(GPU);
      assertThat(strings(container.get("args"))).as("%s: worker ids must differ (pid is 1 in a container)", deployment)
          .containsSubsequence("--id", "$(POD_NAME)");
    }
    assertThat(classes).contains("L4", "A100-80");
  }

  // ---------------------------------------------------------------- secrets

  @Test
  void noSecretValueIsCommitted() throws IOException {
    List<Doc> secrets = ofKind("Secret");
    assertThat(secrets).as("a Secret template per region").hasSizeGreaterThanOrEqualTo(REGIONS.size());
    for (Doc secret : secrets) {
      map(secret.body().get("stringData")).forEach((key, value) ->
          assertThat(str(value)).as("%s: %s holds the placeholder", secret, key).isEqualTo(PLACEHOLDER));
      map(secret.body().get("data")).forEach((key, value) ->
          assertThat(new String(Base64.getDecoder().decode(str(value)), StandardCharsets.UTF_8))
              .as("%s: %s holds the placeholder", secret, key).isEqualTo(PLACEHOLDER));
    }
    for (Doc deployment : ofKind("Deployment")) {
      for (Object c : list(podSpec(deployment).get("containers"))) {
        for (Object e : list(map(c).get("env"))) {
          Map<String, Object> entry = map(e);
          if (SECRET_NAME.matcher(str(entry.get("name"))).matches()) {
            assertThat(entry).as("%s: %s must come from a Secret", deployment, entry.get("name")).doesNotContainKey("value");
          }
        }
      }
    }
    for (Path kustomization : kustomizations()) {
      for (Object generator : list(single(kustomization).get("secretGenerator"))) {
        assertThat(map(generator)).as("%s: no literal secrets", kustomization).doesNotContainKey("literals");
      }
    }
    // Anything that reads like a password assignment or URL credentials, in any YAML file.
    Pattern assignment = Pattern.compile("(?i)password[\"']?\\s*[:=]\\s*[\"']?([^\\s\"',}]+)");
    Pattern userinfo = Pattern.compile("://[^/\\s:@]*:([^@\\s/]+)@");
    for (Path file : yamlFiles()) {
      int lineNo = 0;
      for (String line : Files.readAllLines(file)) {
        lineNo++;
        String code = line.contains("#") ? line.substring(0, line.indexOf('#')) : line;
        for (Pattern pattern : List.of(assignment, userinfo)) {
          Matcher m = pattern.matcher(code);
          while (m.find()) {
            assertThat(m.group(1)).as("%s:%d looks like a committed password", file, lineNo).isEqualTo(PLACEHOLDER);
          }
        }
      }
    }
    assertThat(ConfigLoader.load(configFile(), Map.of()).regions().values())
        .allSatisfy(region -> assertThat(region.postgres().password()).as("no password in genmesh.yaml").isEmpty());
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void configMapConfigLoadsOverTheDefaultsAndMatchesTheManifests(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("genmesh.yaml");
    Files.copy(configFile(), file);
    GenmeshConfig config = ConfigLoader.load(file, Map.of());

    Doc regionNode = named("Deployment", "genmesh-region");
    Map<String, Integer> regionPorts = declaredPorts(map(list(podSpec(regionNode).get("containers")).get(0)));
    Doc edge = named("Deployment", "genmesh-edge");
    Map<String, Integer> edgePorts = declaredPorts(map(list(podSpec(edge).get("containers")).get(0)));
    Map<String, Object> apiPort = map(list(map(named("Service", "genmesh-region").body().get("spec")).get("ports")).get(0));
    Map<String, Object> memberPort = map(list(map(named("Service", "genmesh-members").body().get("spec")).get("ports")).get(0));

    assertThat(config.edge().host()).as("edge listens on the pod IP").isEqualTo("0.0.0.0");
    assertThat(edgePorts).containsValue(config.edge().port());
    for (String name : REGIONS) {
      RegionConfig region = config.region(name);
      assertThat(region.httpHost()).as("%s listens on the pod IP", name).isEqualTo("0.0.0.0");
      assertThat(region.httpPort()).as("%s regional API port = container port http", name).isEqualTo(regionPorts.get("http"));
      assertThat(region.clusterPort()).as("%s Hazelcast port = container port", name).isEqualTo(regionPorts.get("hazelcast"));
      assertThat(region.clusterMembers()).as("%s joins through its headless Service", name)
          .containsExactly("genmesh-members-" + name + ":" + memberPort.get("port"));
      assertThat(resolvePort(memberPort.get("targetPort"), regionPorts)).contains(region.clusterPort());
      assertThat(region.apiUrl()).as("%s: the edge calls the region's Service", name)
          .isEqualTo("http://genmesh-region-" + name + ":" + apiPort.get("port"));
      assertThat(resolvePort(apiPort.get("targetPort"), regionPorts)).contains(region.httpPort());
      ImagesConfig.Bucket bucket = config.images().forRegion(name);
      assertThat(bucket.bucket()).as("%s has a bucket of its own", name).isEqualTo("genmesh-" + name);
      assertThat(bucket.signingRegion()).as("%s: its bucket's AWS region", name).isNotBlank();
      assertThat(bucket.keys()).as("no keys in genmesh.yaml").isNull();
      assertThat(bucket.credentialsFile()).isEmpty();
    }
  }

  @Test
  void environmentTheManifestsSetNamesRealConfigKeys(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("genmesh.yaml");
    Files.copy(configFile(), file);
    for (String region : REGIONS) {
      // The Secret template's keys, as the region node gets them through envFrom.
      Doc secret = named("Secret", "genmesh-stores-" + region);
      Map<String, String> env = new HashMap<>();
      map(secret.body().get("stringData")).forEach((k, v) -> env.put(k, str(v)));
      String prefix = "GENMESH_REGIONS__" + region.toUpperCase().replace('-', '_') + "__";
      assertThat(env.keySet()).allSatisfy(key -> assertThat(key).startsWith(prefix));
      assertThat(env).containsKeys(prefix + "POSTGRES__HOST", prefix + "POSTGRES__PASSWORD", prefix + "REDIS__URL");
      GenmeshConfig config = ConfigLoader.load(file, env);
      RegionConfig loaded = config.region(region);
      assertThat(loaded.postgres().host()).isEqualTo(PLACEHOLDER);
      assertThat(loaded.postgres().user()).isEqualTo(PLACEHOLDER);
      assertThat(loaded.postgres().password()).isEqualTo(PLACEHOLDER);
      assertThat(loaded.redis().url()).isEqualTo(PLACEHOLDER);

      // The object-store keys' Secret, as region nodes and workers get it through envFrom.
      Doc images = named("Secret", "genmesh-images-" + region);
      Map<String, String> keys = new HashMap<>();
      map(images.body().get("stringData")).forEach((k, v) -> keys.put(k, str(v)));
      assertThat(keys).containsOnlyKeys(ImagesConfig.ACCESS_KEY_ENV, ImagesConfig.SECRET_KEY_ENV);
      assertThat(ConfigLoader.load(file, keys).images().keys()).isEqualTo(new ImagesConfig.Keys(PLACEHOLDER, PLACEHOLDER));
      assertThat(images.file().getParent()).isEqualTo(K8S.resolve("overlays").resolve(region));
    }
    for (Doc deployment : ofKind("Deployment")) {
      Map<String, String> env = new HashMap<>();
      for (Object c : list(podSpec(deployment).get("containers"))) {
        env(map(c)).forEach((k, v) -> {
          if (k.startsWith(ConfigLoader.ENV_PREFIX) && k.contains("__")) {
            env.put(k, v);
          }
        });
      }
      assertThatCode(() -> ConfigLoader.load(file, env)).as("%s: its GENMESH_ variables load", deployment)
          .doesNotThrowAnyException();
    }
  }

  // ---------------------------------------------------------------- overlays

  @ParameterizedTest
  @ValueSource(strings = {"us-west", "us-east", "eu-west"})
  void regionOverlayLabelsAndRenamesEveryRegionObject(String region) throws IOException {
    Path dir = K8S.resolve("overlays").resolve(region);
    Map<String, Object> top = single(dir.resolve("kustomization.yaml"));
    assertThat(strings(top.get("resources"))).contains("../../base", "region");
    Map<String, Object> scoped = single(dir.resolve("region").resolve("kustomization.yaml"));
    assertThat(strings(scoped.get("resources"))).containsExactly("../../../base/region");

    List<Object> labels = list(scoped.get("labels"));
    assertThat(labels).anySatisfy(l -> {
      assertThat(map(map(l).get("pairs"))).containsEntry(REGION_LABEL, region);
      assertThat(map(l).get("includeSelectors")).isEqualTo(true);
    });

    // kind/name -> new name, and the extra operations of each rename patch
    Map<String, String> renames = new HashMap<>();
    List<Map<String, Object>> operations = new ArrayList<>();
    for (Object p : list(scoped.get("patches"))) {
      Map<String, Object> patch = map(p);
      Map<String, Object> target = map(patch.get("target"));
      for (Object op : list(new Yaml(new SafeConstructor(new LoaderOptions())).load(str(patch.get("patch"))))) {
        Map<String, Object> operation = map(op);
        operations.add(operation);
        if ("/metadata/name".equals(operation.get("path"))) {
          assertThat(map(patch.get("options")).get("allowNameChange")).isEqualTo(true);
          renames.put(target.get("kind") + "/" + target.get("name"), str(operation.get("value")));
        }
      }
    }
    for (Doc doc : manifestsUnder(K8S.resolve("base").resolve("region"))) {
      String key = doc.kind() + "/" + doc.name();
      String expected = doc.name().startsWith("genmesh-worker-")
          ? "genmesh-worker-" + region + "-" + doc.name().substring("genmesh-worker-".length())
          : doc.name() + "-" + region;
      assertThat(renames).as("%s is renamed for %s", key, region).containsEntry(key, expected);
    }
    assertThat(operations).as("the region node reads the region's Secret").anySatisfy(op -> {
      assertThat(str(op.get("path"))).endsWith("/secretRef/name");
      assertThat(op.get("value")).isEqualTo("genmesh-stores-" + region);
    });
    assertThat(named("Secret", "genmesh-stores-" + region).file().getParent()).isEqualTo(dir);
  }

  @ParameterizedTest
  @ValueSource(strings = {"us-west", "us-east", "eu-west", "edge"})
  void overlayRendersWithKubectlKustomize(String overlay, @TempDir Path tmp) throws Exception {
    Optional<Path> kubectl = onPath("kubectl");
    Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on the PATH: overlays not rendered");
    Path out = tmp.resolve("out.yaml");
    Path err = tmp.resolve("err.txt");
    Process process = new ProcessBuilder(kubectl.get().toString(), "kustomize", K8S.resolve("overlays").resolve(overlay).toString())
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("kubectl kustomize did not finish within 120 s");
    }
    assertThat(process.exitValue()).as("kubectl kustomize %s: %s", overlay, Files.readString(err)).isZero();
    List<Doc> docs = new ArrayList<>();
    for (Object doc : loadAll(out)) {
      docs.add(new Doc(out, map(doc)));
    }
    Map<String, Doc> byKey = new LinkedHashMap<>();
    docs.forEach(d -> byKey.put(d.kind() + "/" + d.name(), d));
    Set<String> configMaps = docs.stream().filter(d -> d.kind().equals("ConfigMap")).map(Doc::name).collect(Collectors.toSet());
    assertThat(configMaps).singleElement().satisfies(name -> assertThat(name).startsWith("genmesh-config-"));
    for (Doc doc : docs) {
      if (!doc.kind().equals("Namespace")) {
        assertThat(map(doc.body().get("metadata")).get("namespace")).as("%s namespace", doc).isEqualTo("genmesh");
      }
    }
    for (Doc deployment : docs.stream().filter(d -> d.kind().equals("Deployment")).toList()) {
      Map<String, Object> pod = podSpec(deployment);
      for (Object v : list(pod.get("volumes"))) {
        Map<String, Object> volume = map(v);
        if (volume.containsKey("configMap")) {
          assertThat(configMaps).as("%s mounts the generated ConfigMap", deployment).contains(str(map(volume.get("configMap")).get("name")));
        }
        if (volume.containsKey("persistentVolumeClaim")) {
          assertThat(byKey).containsKey("PersistentVolumeClaim/" + map(volume.get("persistentVolumeClaim")).get("claimName"));
        }
      }
      for (Object c : list(pod.get("containers"))) {
        assertThat(str(map(c).get("image"))).as("%s image set by the overlay", deployment).contains("/").contains(":");
      }
    }
    if (overlay.equals("edge")) {
      assertThat(byKey).containsKeys("Namespace/genmesh", "Deployment/genmesh-edge", "Service/genmesh-edge",
          "PodDisruptionBudget/genmesh-edge");
      assertThat(byKey.keySet()).noneMatch(k -> k.contains("region") || k.contains("worker"));
      return;
    }
    String region = overlay;
    assertThat(byKey).containsKeys("Namespace/genmesh", "Deployment/genmesh-region-" + region,
        "Service/genmesh-region-" + region, "Service/genmesh-members-" + region,
        "Deployment/genmesh-worker-" + region + "-l4", "Deployment/genmesh-worker-" + region + "-a100-80",
        "PodDisruptionBudget/genmesh-region-" + region);
    assertThat(byKey.keySet()).as("images are in the object store, not on a volume")
        .noneMatch(k -> k.startsWith("PersistentVolumeClaim/"));
    assertThat(byKey.keySet()).noneMatch(k -> k.contains("edge"));
    assertThat(map(map(byKey.get("Namespace/genmesh").body().get("metadata")).get("labels")))
        .as("the shared namespace carries no region").doesNotContainKey(REGION_LABEL);
    for (Doc doc : docs) {
      if (doc.kind().equals("Namespace") || doc.kind().equals("ConfigMap")) {
        continue;
      }
      assertThat(map(map(doc.body().get("metadata")).get("labels"))).as("%s labelled", doc).containsEntry(REGION_LABEL, region);
      Map<String, Object> spec = map(doc.body().get("spec"));
      Map<String, Object> selector = switch (doc.kind()) {
        case "Service" -> map(spec.get("selector"));
        case "Deployment", "PodDisruptionBudget" -> map(map(spec.get("selector")).get("matchLabels"));
        default -> Map.of(REGION_LABEL, region);
      };
      assertThat(selector).as("%s selects only its region", doc).containsEntry(REGION_LABEL, region);
      if (doc.kind().equals("Deployment")) {
        assertThat(podLabels(doc)).containsEntry(REGION_LABEL, region);
      }
    }
    Map<String, Object> regionPod = podSpec(byKey.get("Deployment/genmesh-region-" + region));
    // The Kubernetes actuator's identity: the region node's service account, bound to a Role that
    // may scale this region's worker Deployments and annotate pods (docs/autoscaling.md).
    assertThat(regionPod.get("serviceAccountName")).isEqualTo("genmesh-region-" + region);
    Map<String, Object> binding = byKey.get("RoleBinding/genmesh-autoscaler-" + region).body();
    assertThat(map(binding.get("roleRef")).get("name")).isEqualTo("genmesh-autoscaler-" + region);
    assertThat(map(list(binding.get("subjects")).get(0)).get("name")).isEqualTo("genmesh-region-" + region);
    assertThat(byKey).containsKey("ServiceAccount/genmesh-region-" + region);
    List<Object> rules = list(byKey.get("Role/genmesh-autoscaler-" + region).body().get("rules"));
    assertThat(rules).anySatisfy(r -> {
      assertThat(strings(map(r).get("resources"))).containsExactly("deployments/scale");
      assertThat(strings(map(r).get("verbs"))).contains("get", "update", "patch");
      assertThat(strings(map(r).get("resourceNames"))).containsExactlyInAnyOrder(
          "genmesh-worker-" + region + "-l4", "genmesh-worker-" + region + "-a100-80");
    });
    assertThat(rules).anySatisfy(r -> {
      assertThat(strings(map(r).get("resources"))).containsExactly("pods");
      assertThat(strings(map(r).get("verbs"))).contains("patch");
    });
    assertThat(list(map(list(regionPod.get("containers")).get(0)).get("envFrom")))
        .anySatisfy(e -> assertThat(map(map(e).get("secretRef")).get("name")).isEqualTo("genmesh-stores-" + region));
    // Region nodes and workers sign object-store requests with the region's keys (or the pod's role).
    for (Doc deployment : docs.stream().filter(d -> d.kind().equals("Deployment")).toList()) {
      assertThat(list(map(list(podSpec(deployment).get("containers")).get(0)).get("envFrom")))
          .as("%s reads the object-store keys", deployment).anySatisfy(e -> {
            assertThat(map(map(e).get("secretRef")).get("name")).isEqualTo("genmesh-images-" + region);
            assertThat(map(map(e).get("secretRef")).get("optional")).isEqualTo(true);
          });
    }
    Map<String, Object> headless = map(byKey.get("Service/genmesh-members-" + region).body().get("spec"));
    assertThat(headless).containsEntry("clusterIP", "None").containsEntry("publishNotReadyAddresses", true);
    // Region nodes and workers are behind the headless Service: one Hazelcast cluster.
    for (Doc deployment : docs.stream().filter(d -> d.kind().equals("Deployment")).toList()) {
      assertThat(podLabels(deployment)).as("%s is a member", deployment).containsAllEntriesOf(
          map(headless.get("selector")).entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> str(e.getValue()))));
    }
  }

}
