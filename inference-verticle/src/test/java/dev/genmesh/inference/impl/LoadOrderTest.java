package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.scaling.WarmupOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadOrderTest {
  private static final List<String> CONFIGURED = List.of("a", "b", "c");

  @Test
  void theAnswersOrderComesFirstAndOmittedModelsFollowInConfiguredOrder() {
    LoadOrder order = LoadOrder.from(CONFIGURED, new WarmupOrder.Answer(List.of("c", "x", "a"), "fam", "plan"));
    assertThat(order.models()).containsExactly("c", "a", "b");
    assertThat(order.ignored()).containsExactly("x");
    assertThat(order.reason()).isEqualTo("plan");
    assertThat(order.family()).isEqualTo("fam");
  }

  @Test
  void anEmptyOrRepeatingAnswerStillLoadsEveryModelOnce() {
    assertThat(LoadOrder.from(CONFIGURED, new WarmupOrder.Answer(List.of(), null, "demand")).models())
        .containsExactly("a", "b", "c");
    assertThat(LoadOrder.from(CONFIGURED, new WarmupOrder.Answer(List.of("b", "b"), null, "demand")).models())
        .containsExactly("b", "a", "c");
    assertThat(LoadOrder.configured(CONFIGURED).reason()).isEqualTo(LoadOrder.CONFIGURED);
  }
}
