package dev.genmesh.launcher.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchRule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The module rules of docs/architecture.md ("Modules"), as ArchUnit rules over main code. Each
 * module owns a root package; this class knows which kind each one is.
 */
final class ModuleRules {
  /** Deployable products: each depends on the shared and library modules only. */
  static final Map<String, String> SERVICES = Map.of(
      "edge-router", "dev.genmesh.edge",
      "region-node", "dev.genmesh.region",
      "inference-verticle", "dev.genmesh.inference",
      "safety-service", "dev.genmesh.safety",
      "simulator", "dev.genmesh.simulator");
  /** Libraries services may use: pure logic or a contract with its server side. */
  static final Map<String, String> LIBRARIES = Map.of(
      "autoscaler", "dev.genmesh.autoscaler",
      "breakers", "dev.genmesh.breakers",
      "model-registry", "dev.genmesh.registry",
      "image-store", "dev.genmesh.images",
      "failover", "dev.genmesh.failover",
      "users", "dev.genmesh.users",
      "replication", "dev.genmesh.replication");
  /** The language and the configuration every module may use. */
  static final Map<String, String> SHARED = Map.of(
      "protocol", "dev.genmesh.protocol",
      "config", "dev.genmesh.config");
  static final String LAUNCHER = "dev.genmesh.launcher";
  /** embedded-stores: PostgreSQL and Redis for {@code genmesh up}, the tests and the benchmarks. */
  static final String EMBEDDED = "dev.genmesh.embedded";
  /** client: the public API's Java client; it speaks the wire contract (openapi.yaml), not the mesh's records. */
  static final String CLIENT = "dev.genmesh.client";
  /** test-kit: main code of a module that only tests use. */
  static final String TEST_KIT = "dev.genmesh.testkit";

  private ModuleRules() {}

  /** Every rule, one per module where the rule is per module; a failure names the class and the dependency. */
  static List<ArchRule> all() {
    List<ArchRule> rules = new ArrayList<>(servicesStayApart());
    rules.add(librariesUseSharedOnly());
    rules.add(sharedUsesNoModule());
    rules.add(nobodyUsesTheLauncher());
    rules.addAll(noModuleUsesAnothersImpl());
    rules.add(onlyTheLauncherTalksToKubernetes());
    rules.add(onlyTheLauncherStartsEmbeddedStores());
    rules.add(noMainCodeUsesTheTestKit());
    rules.add(theClientStandsAlone());
    return rules;
  }

  static List<ArchRule> servicesStayApart() {
    return SERVICES.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(service -> {
      String[] others = SERVICES.values().stream().filter(p -> !p.equals(service.getValue()))
          .map(p -> p + "..").toArray(String[]::new);
      return (ArchRule) noClasses().that().resideInAPackage(service.getValue() + "..")
          .should().dependOnClassesThat().resideInAnyPackage(others)
          .as("service module " + service.getKey() + " depends on no other service module");
    }).toList();
  }

  static ArchRule librariesUseSharedOnly() {
    String[] libraries = LIBRARIES.values().stream().map(p -> p + "..").toArray(String[]::new);
    return noClasses().that().resideInAnyPackage(libraries)
        .should().dependOnClassesThat(genmeshOutside(LIBRARIES, SHARED))
        .as("library modules (autoscaler, breakers, model-registry, image-store, failover, users) depend on protocol,"
            + " config and other libraries only");
  }

  static ArchRule sharedUsesNoModule() {
    return noClasses().that().resideInAnyPackage("dev.genmesh.protocol..", "dev.genmesh.config..")
        .should().dependOnClassesThat(genmeshOutside(SHARED))
        .as("protocol and config depend on no other module");
  }

  static ArchRule nobodyUsesTheLauncher() {
    return noClasses().that().resideOutsideOfPackage(LAUNCHER + "..")
        .should().dependOnClassesThat().resideInAPackage(LAUNCHER + "..")
        .as("no module depends on the launcher");
  }

  /** {@code impl} packages are private to their module (the launcher's included). */
  static List<ArchRule> noModuleUsesAnothersImpl() {
    return allRoots().stream().map(root -> (ArchRule) noClasses().that().resideOutsideOfPackage(root + "..")
        .should().dependOnClassesThat().resideInAPackage(root + "..impl..")
        .as("no module reaches into " + root + "'s impl packages")).toList();
  }

  static ArchRule onlyTheLauncherTalksToKubernetes() {
    return noClasses().that().resideOutsideOfPackage(LAUNCHER + "..")
        .should().dependOnClassesThat().resideInAPackage("io.fabric8..")
        .as("only the launcher's scaling package uses the Kubernetes client");
  }

  static ArchRule onlyTheLauncherStartsEmbeddedStores() {
    return noClasses().that().resideOutsideOfPackages(LAUNCHER + "..", EMBEDDED + "..", TEST_KIT + "..")
        .should().dependOnClassesThat().resideInAPackage(EMBEDDED + "..")
        .as("only the launcher (and the test kit) start the embedded stores");
  }

  static ArchRule noMainCodeUsesTheTestKit() {
    return noClasses().that().resideOutsideOfPackage(TEST_KIT + "..")
        .should().dependOnClassesThat().resideInAPackage(TEST_KIT + "..")
        .as("no main code uses the test kit");
  }

  static ArchRule theClientStandsAlone() {
    return noClasses().that().resideInAPackage(CLIENT + "..")
        .should().dependOnClassesThat(genmeshOutside(Map.of("client", CLIENT)))
        .as("the client depends on no other genmesh module");
  }

  private static List<String> allRoots() {
    List<String> roots = new ArrayList<>();
    roots.addAll(SERVICES.values());
    roots.addAll(LIBRARIES.values());
    roots.addAll(SHARED.values());
    roots.add(LAUNCHER);
    roots.add(EMBEDDED);
    roots.add(TEST_KIT);
    roots.add(CLIENT);
    roots.sort(null);
    return roots;
  }

  /** A genmesh class that is in none of the given modules. */
  @SafeVarargs
  private static DescribedPredicate<JavaClass> genmeshOutside(Map<String, String>... allowed) {
    List<String> roots = Arrays.stream(allowed).flatMap(m -> m.values().stream()).toList();
    return DescribedPredicate.describe("a genmesh class outside " + roots, c -> c.getPackageName().startsWith("dev.genmesh.")
        && roots.stream().noneMatch(r -> c.getPackageName().equals(r) || c.getPackageName().startsWith(r + ".")));
  }
}
