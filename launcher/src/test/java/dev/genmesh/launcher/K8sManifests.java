package dev.genmesh.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import java.io.File;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Reading the manifests under {@code k8s/} for {@link KubernetesManifestsTest}: files, documents, and small typed views. */
final class K8sManifests {
  static final Path K8S = Path.of("..", "k8s").toAbsolutePath().normalize();

  private K8sManifests() {}

  /** One YAML document of one file. */
  record Doc(Path file, Map<String, Object> body) {
    String kind() {
      return str(body.get("kind"));
    }

    String name() {
      return str(map(body.get("metadata")).get("name"));
    }

    @Override
    public String toString() {
      return (file.startsWith(K8S) ? K8S.relativize(file) : file.getFileName()) + " " + kind() + "/" + name();
    }
  }


  static void assertHttpProbe(Doc deployment, Map<String, Object> probe, String path, Map<String, Integer> ports) {
    Map<String, Object> http = map(probe.get("httpGet"));
    assertThat(http).as("%s: HTTP probe", deployment).isNotEmpty();
    assertThat(http.get("path")).as("%s: probe path", deployment).isEqualTo(path);
    assertThat(resolvePort(http.get("port"), ports)).as("%s: probe port %s is declared", deployment, http.get("port")).isPresent();
  }

  static Optional<Integer> resolvePort(Object port, Map<String, Integer> declared) {
    if (port instanceof Number n) {
      return declared.containsValue(n.intValue()) ? Optional.of(n.intValue()) : Optional.empty();
    }
    return Optional.ofNullable(declared.get(str(port)));
  }

  static Map<String, Integer> declaredPorts(Map<String, Object> container) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (Object p : list(container.get("ports"))) {
      Map<String, Object> port = map(p);
      int number = ((Number) port.get("containerPort")).intValue();
      ports.put(port.containsKey("name") ? str(port.get("name")) : String.valueOf(number), number);
    }
    return ports;
  }

  static Map<String, String> env(Map<String, Object> container) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container.get("env"))) {
      Map<String, Object> entry = map(e);
      if (entry.containsKey("value")) {
        env.put(str(entry.get("name")), str(entry.get("value")));
      }
    }
    return env;
  }

  static Map<String, Object> podSpec(Doc deployment) {
    return map(map(map(deployment.body().get("spec")).get("template")).get("spec"));
  }

  static Map<String, Object> podLabels(Doc deployment) {
    return map(map(map(map(deployment.body().get("spec")).get("template")).get("metadata")).get("labels"));
  }

  /** The genmesh.yaml that the base's configMapGenerator turns into the genmesh-config ConfigMap. */
  static Path configFile() throws IOException {
    Path base = K8S.resolve("base").resolve("kustomization.yaml");
    for (Object generator : list(single(base).get("configMapGenerator"))) {
      if ("genmesh-config".equals(map(generator).get("name"))) {
        for (String entry : strings(map(generator).get("files"))) {
          // An entry is "path" (the key is the file name) or "key=path".
          int eq = entry.indexOf('=');
          String path = eq < 0 ? entry : entry.substring(eq + 1);
          String key = eq < 0 ? Path.of(path).getFileName().toString() : entry.substring(0, eq);
          if (key.equals("genmesh.yaml")) {
            return base.getParent().resolve(path);
          }
        }
      }
    }
    throw new AssertionError("base/kustomization.yaml generates no genmesh-config ConfigMap with genmesh.yaml");
  }

  static Doc named(String kind, String name) throws IOException {
    return ofKind(kind).stream().filter(d -> d.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " under " + K8S));
  }

  static List<Doc> ofKind(String kind) throws IOException {
    return manifests().stream().filter(d -> d.kind().equals(kind)).toList();
  }

  static List<Doc> manifests() throws IOException {
    return manifestsUnder(K8S);
  }

  /** Every document of every YAML file under {@code root}, except kustomizations and generator sources. */
  static List<Doc> manifestsUnder(Path root) throws IOException {
    Set<Path> sources = new java.util.HashSet<>();
    for (Path kustomization : kustomizations()) {
      sources.addAll(generatorSources(kustomization));
    }
    List<Doc> docs = new ArrayList<>();
    for (Path file : yamlFiles()) {
      if (!file.startsWith(root) || isKustomization(file) || sources.contains(file)) {
        continue;
      }
      for (Object doc : loadAll(file)) {
        docs.add(new Doc(file, map(doc)));
      }
    }
    return docs;
  }

  static List<Path> generatorSources(Path kustomization) throws IOException {
    Map<String, Object> k = single(kustomization);
    List<Path> sources = new ArrayList<>();
    for (String field : List.of("configMapGenerator", "secretGenerator")) {
      for (Object generator : list(k.get(field))) {
        for (String key : List.of("files", "envs")) {
          for (String entry : strings(map(generator).get(key))) {
            String path = entry.contains("=") ? entry.substring(entry.indexOf('=') + 1) : entry;
            sources.add(kustomization.getParent().resolve(path).normalize());
          }
        }
      }
    }
    return sources;
  }

  static List<Path> kustomizations() throws IOException {
    return yamlFiles().stream().filter(K8sManifests::isKustomization).toList();
  }

  static boolean isKustomization(Path file) {
    String name = file.getFileName().toString();
    return name.equals("kustomization.yaml") || name.equals("kustomization.yml") || name.equals("Kustomization");
  }

  static List<Path> yamlFiles() throws IOException {
    assertThat(K8S).as("the k8s folder beside the launcher module").isDirectory();
    try (Stream<Path> paths = Files.walk(K8S)) {
      return paths.filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    }
  }

  static Map<String, Object> single(Path file) throws IOException {
    List<Object> docs = loadAll(file);
    assertThat(docs).as("%s holds one document", file).hasSize(1);
    return map(docs.get(0));
  }

  /** The non-empty documents of a (multi-document) YAML file, read with the safe constructor. */
  static List<Object> loadAll(Path file) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Object> docs = new ArrayList<>();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (Object doc : yaml.loadAll(reader)) {
        if (doc != null) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  static Optional<Path> onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, command);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    if (o == null) {
      return Map.of();
    }
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    if (o == null) {
      return List.of();
    }
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  static List<String> strings(Object o) {
    return list(o).stream().map(K8sManifests::str).toList();
  }

  static String str(Object o) {
    return o == null ? null : o.toString();
  }
}
