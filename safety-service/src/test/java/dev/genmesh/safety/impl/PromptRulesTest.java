package dev.genmesh.safety.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PromptRulesTest {
  private final PromptRules rules = new PromptRules(List.of("gore", "beheading", "Blood Bath"));

  @Test
  void blocksWholeWordsCaseInsensitively() {
    assertThat(rules.violations("A field of GORE at noon")).containsExactly("prompt contains the blocked term 'gore'");
    assertThat(rules.violations("gore")).hasSize(1);
    assertThat(rules.violations("(gore)!")).hasSize(1);
    assertThat(rules.violations("a public beheading, and gore")).hasSize(2);
  }

  @Test
  void leavesWordsThatOnlyContainATermAlone() {
    // A hyphen separates words: the 'gore' of Gore-tex is a whole word (a known false positive).
    assertThat(rules.violations("a jacket of Gore-tex")).hasSize(1);
    assertThat(rules.violations("a gorgeous gorilla, a gored bull, Igor eats")).isEmpty();
    assertThat(rules.violations("")).isEmpty();
    assertThat(rules.violations(null)).isEmpty();
  }

  @Test
  void undoesCheapObfuscations() {
    for (String prompt : List.of("g.o.r.e", "g-o-r-e", "g o r e", "a g_o_r_e scene", "go.re", "g0re", "GÖRE", "go\u200Bre",
        "goooore", "be-head-ing", "b e h e a d i n g")) {
      assertThat(rules.violations(prompt)).as(prompt).hasSize(1);
    }
  }

  @Test
  void matchesPhrasesAsWholeWordSequences() {
    assertThat(rules.violations("a blood  bath in the river")).containsExactly("prompt contains the blocked term 'Blood Bath'");
    assertThat(rules.violations("a blood-bath")).hasSize(1);
    assertThat(rules.violations("a blood orange and a bath")).isEmpty();
  }

  @Test
  void noTermsBlockNothing() {
    assertThat(new PromptRules(List.of()).violations("gore")).isEmpty();
  }
}
