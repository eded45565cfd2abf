package dev.genmesh.launcher.architecture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.genmesh.autoscaler.archfixture.PolicyReadsTheRequestLog;
import dev.genmesh.client.archfixture.ClientReadsTheProtocol;
import dev.genmesh.edge.archfixture.EdgeCallsTheRegionNode;
import dev.genmesh.edge.archfixture.EdgeStartsTheMesh;
import dev.genmesh.region.archfixture.NodeScalesPodsItself;
import dev.genmesh.region.archfixture.NodeUsesTheWorkersInternals;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The module rules (docs/architecture.md, "Modules") hold over every module's main code, and each
 * rule fails on a class that breaks it (the fixtures live in this module's test code, in the
 * packages of the modules they pretend to be).
 */
class ModuleRulesTest {
  private static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.genmesh");
  private static final JavaClasses OFFENDERS = new ClassFileImporter().importClasses(EdgeCallsTheRegionNode.class,
      EdgeStartsTheMesh.class, PolicyReadsTheRequestLog.class, NodeScalesPodsItself.class,
      NodeUsesTheWorkersInternals.class, ClientReadsTheProtocol.class);

  @TestFactory
  Stream<DynamicTest> mainCodeKeepsEveryRule() {
    assertThat(MAIN.containPackage("dev.genmesh.region")).as("the modules' main classes are on the classpath").isTrue();
    return ModuleRules.all().stream().map(rule -> dynamicTest(rule.getDescription(), () -> rule.check(MAIN)));
  }

  @Test
  void eachKindOfRuleCatchesItsOffender() {
    assertThat(violated(ModuleRules.servicesStayApart().stream()))
        .contains("service module edge-router depends on no other service module",
            "service module region-node depends on no other service module");
    assertThat(violated(Stream.of(ModuleRules.librariesUseSharedOnly()))).hasSize(1);
    assertThat(violated(Stream.of(ModuleRules.nobodyUsesTheLauncher()))).hasSize(1);
    assertThat(violated(ModuleRules.noModuleUsesAnothersImpl().stream()))
        .containsExactly("no module reaches into dev.genmesh.inference's impl packages");
    assertThat(violated(Stream.of(ModuleRules.onlyTheLauncherTalksToKubernetes()))).hasSize(1);
    assertThat(violated(Stream.of(ModuleRules.onlyTheLauncherStartsEmbeddedStores()))).hasSize(1);
    assertThat(violated(Stream.of(ModuleRules.noMainCodeUsesTheTestKit()))).hasSize(1);
    assertThat(violated(Stream.of(ModuleRules.theClientStandsAlone()))).hasSize(1);
  }

  private static List<String> violated(Stream<ArchRule> rules) {
    return rules.filter(rule -> rule.allowEmptyShould(true).evaluate(OFFENDERS).hasViolation()).map(ArchRule::getDescription).toList();
  }
}
