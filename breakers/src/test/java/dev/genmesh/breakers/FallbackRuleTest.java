package dev.genmesh.breakers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which fallback a request may move to: the configured one, and only if it can run the request unchanged. */
class FallbackRuleTest {
  private static final Map<String, ModelConfig> MODELS = ConfigLoader.defaults().models();
  private final FallbackRule rule = new FallbackRule(MODELS);

  private static GenerationSpec plain(String model, int width, int steps, int batch) {
    return new GenerationSpec("a heron", "", model, Tier.FAST, width, 512, steps, 1, 7.5, batch, null, 1.0, null, 1.0, 0,
        true);
  }

  @Test
  void thePairOfBundledModelsFallBackToEachOther() {
    assertThat(rule.target(plain("genmesh-tiny", 512, 20, 1))).contains("genmesh-small");
    assertThat(rule.target(plain("genmesh-small", 768, 30, 4))).contains("genmesh-tiny");
  }

  @Test
  void aRequestTheFallbackCannotRunHasNone() {
    GenerationSpec adapter = new GenerationSpec("a heron", "", "genmesh-tiny", Tier.FAST, 512, 512, 20, 1, 7.5, 1,
        "watercolor@1", 1.0, null, 1.0, 0, true);
    GenerationSpec control = new GenerationSpec("a heron", "", "genmesh-tiny", Tier.FAST, 512, 512, 20, 1, 7.5, 1,
        null, 1.0, "iVBORw0KGgo=", 1.0, 0, true);

    assertThat(rule.target(adapter)).as("genmesh-small has no adapters").isEmpty();
    assertThat(rule.target(control)).as("genmesh-small takes no conditioning").isEmpty();
  }

  @Test
  void limitsOfTheFallbackApply() {
    Map<String, ModelConfig> models = new HashMap<>(MODELS);
    ModelConfig small = MODELS.get("genmesh-small");
    models.put("genmesh-small", new ModelConfig(small.name(), small.version(), small.path(), small.minSize(), 512,
        small.sizeMultiple(), 512, 512, small.minSteps(), 10, 10, 2, small.minGuidance(), small.maxGuidance(),
        small.defaultGuidance(), small.requestClasses(), small.vramMb(), small.vramMbPerMegapixel(), List.of(), List.of(),
        ""));
    FallbackRule narrow = new FallbackRule(models);

    assertThat(narrow.target(plain("genmesh-tiny", 512, 10, 2))).contains("genmesh-small");
    assertThat(narrow.target(plain("genmesh-tiny", 768, 10, 1))).as("too wide").isEmpty();
    assertThat(narrow.target(plain("genmesh-tiny", 512, 11, 1))).as("too many steps").isEmpty();
    assertThat(narrow.target(plain("genmesh-tiny", 512, 10, 3))).as("batch too large").isEmpty();
    assertThat(narrow.target(plain("genmesh-small", 512, 10, 1))).as("no fallback configured").isEmpty();
  }

  @Test
  void anUnknownModelHasNoFallback() {
    assertThat(rule.target(plain("sdxl-base", 512, 20, 1))).isEmpty();
  }
}
