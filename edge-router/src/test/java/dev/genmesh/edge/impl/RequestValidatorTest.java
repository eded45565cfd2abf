package dev.genmesh.edge.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.edge.submit.impl.Validation;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Limits of the bundled defaults: genmesh-tiny, sizes 256..1024 by 64, steps 1..50, batch 1..4, guidance 0..20, prompt 2000. */
class RequestValidatorTest {
  private static final GenmeshConfig CONFIG = ConfigLoader.defaults();
  private final RequestValidator validator = new RequestValidator(CONFIG, () -> 42L);

  private Validation validate(String json) {
    return validator.validate(new JsonObject(json), null);
  }

  private ApiError rejected(String json) {
    Validation validation = validate(json);
    assertThat(validation.isValid()).as("expected %s to be rejected", json).isFalse();
    return validation.error();
  }

  @Test
  void appliesEveryDefault() {
    Validation validation = validate("{\"prompt\": \"a red fox in snow\"}");

    assertThat(validation.isValid()).isTrue();
    assertThat(validation.idempotencyKey()).isNull();
    assertThat(validation.spec()).isEqualTo(new GenerationSpec(
        "a red fox in snow", "", "genmesh-tiny", Tier.FAST, 512, 512, 20, 42L, 7.5, 1));
  }

  @Test
  void keepsEveryGivenValue() {
    Validation validation = validate("""
        {"prompt": "p", "negative_prompt": "blurry", "model": "genmesh-tiny", "tier": "turbo",
         "width": 768, "height": 320, "steps": 33, "seed": 7, "guidance": 3.5, "batch_size": 3}""");

    assertThat(validation.spec()).isEqualTo(new GenerationSpec("p", "blurry", "genmesh-tiny", Tier.TURBO, 768, 320, 33, 7L, 3.5, 3));
  }

  @Test
  void acceptsBoundaryValues() {
    String longest = "x".repeat(CONFIG.edge().maxPromptChars());
    Validation low = validate("{\"prompt\": \"" + longest + "\", \"negative_prompt\": \"" + longest + "\","
        + " \"width\": 256, \"height\": 256, \"steps\": 1, \"seed\": 0, \"guidance\": 0, \"batch_size\": 1, \"tier\": \"relax\"}");
    Validation high = validate("{\"prompt\": \"p\", \"width\": 1024, \"height\": 1024, \"steps\": 50,"
        + " \"seed\": 9007199254740991, \"guidance\": 20.0, \"batch_size\": 4, \"tier\": \" TURBO \"}");

    assertThat(low.isValid()).as("%s", low.error()).isTrue();
    assertThat(low.spec().prompt()).hasSize(CONFIG.edge().maxPromptChars());
    assertThat(low.spec().seed()).isZero();
    assertThat(low.spec().tier()).isEqualTo(Tier.RELAX);
    assertThat(high.isValid()).as("%s", high.error()).isTrue();
    assertThat(high.spec().seed()).isEqualTo(RequestValidator.MAX_SEED);
    assertThat(high.spec().tier()).isEqualTo(Tier.TURBO);
    assertThat(high.spec().batchSize()).isEqualTo(4);
  }

  @Test
  void countsPromptLengthInCharactersNotBytes() {
    String emoji = "\uD83E\uDD8A".repeat(CONFIG.edge().maxPromptChars()); // one code point, two UTF-16 units each

    assertThat(validate("{\"prompt\": \"" + emoji + "\"}").isValid()).isTrue();
  }

  @Test
  void acceptsWholeNumbersWrittenAsDecimals() {
    Validation validation = validate("{\"prompt\": \"p\", \"width\": 512.0, \"steps\": 10.0}");

    assertThat(validation.spec().width()).isEqualTo(512);
    assertThat(validation.spec().steps()).isEqualTo(10);
  }

  @Test
  void treatsNullOptionalFieldsAsAbsent() {
    Validation validation = validate("{\"prompt\": \"p\", \"seed\": null, \"tier\": null, \"negative_prompt\": null}");

    assertThat(validation.spec().seed()).isEqualTo(42L);
    assertThat(validation.spec().tier()).isEqualTo(Tier.FAST);
    assertThat(validation.spec().negativePrompt()).isEmpty();
  }

  @Test
  void passesTheIdempotencyKeyOn() {
    String longest = "k".repeat(RequestValidator.MAX_IDEMPOTENCY_KEY_CHARS);

    assertThat(validator.validate(new JsonObject().put("prompt", "p"), "order-17").idempotencyKey()).isEqualTo("order-17");
    assertThat(validator.validate(new JsonObject().put("prompt", "p"), longest).idempotencyKey()).isEqualTo(longest);
    assertThat(validator.validate(new JsonObject().put("prompt", "p"), "  ").idempotencyKey()).isNull();
  }

  @Test
  void rejectsAnIdempotencyKeyOver200Characters() {
    Validation validation = validator.validate(new JsonObject().put("prompt", "p"), "k".repeat(201));

    assertThat(validation.error().code()).isEqualTo(ErrorCode.INVALID_FIELD);
    assertThat(validation.error().field()).isEqualTo("Idempotency-Key");
  }

  @Test
  void drawsARandomSeedPerRequestByDefault() {
    RequestValidator random = new RequestValidator(CONFIG);
    java.util.Set<Long> seeds = new java.util.HashSet<>();
    for (int i = 0; i < 20; i++) {
      long seed = random.validate(new JsonObject().put("prompt", "p"), null).spec().seed();
      assertThat(seed).isBetween(0L, RequestValidator.RANDOM_SEED_BOUND - 1);
      seeds.add(seed);
    }
    assertThat(seeds).hasSizeGreaterThan(1);
  }

  @ParameterizedTest(name = "{0} -> {1} on {2}")
  @CsvSource(delimiter = '|', textBlock = """
      {}                                                   | MISSING_FIELD    | prompt
      {"prompt": null}                                     | MISSING_FIELD    | prompt
      {"prompt": "   "}                                    | MISSING_FIELD    | prompt
      {"prompt": ""}                                       | MISSING_FIELD    | prompt
      {"prompt": 12}                                       | INVALID_FIELD    | prompt
      {"prompt": ["a"]}                                    | INVALID_FIELD    | prompt
      {"prompt": "p", "negative_prompt": false}            | INVALID_FIELD    | negative_prompt
      {"prompt": "p", "promt": "typo"}                     | INVALID_FIELD    | promt
      {"prompt": "p", "Width": 512}                        | INVALID_FIELD    | Width
      {"prompt": "p", "model": "sdxl"}                     | UNKNOWN_MODEL    | model
      {"prompt": "p", "model": 3}                          | INVALID_FIELD    | model
      {"prompt": "p", "tier": "gold"}                      | UNKNOWN_TIER     | tier
      {"prompt": "p", "tier": 1}                           | INVALID_FIELD    | tier
      {"prompt": "p", "width": 192}                        | UNSUPPORTED_SIZE | width
      {"prompt": "p", "width": 1088}                       | UNSUPPORTED_SIZE | width
      {"prompt": "p", "width": 500}                        | UNSUPPORTED_SIZE | width
      {"prompt": "p", "width": -512}                       | UNSUPPORTED_SIZE | width
      {"prompt": "p", "width": 1e30}                       | UNSUPPORTED_SIZE | width
      {"prompt": "p", "width": "512"}                      | INVALID_FIELD    | width
      {"prompt": "p", "width": 512.5}                      | INVALID_FIELD    | width
      {"prompt": "p", "width": true}                       | INVALID_FIELD    | width
      {"prompt": "p", "width": {"px": 512}}                | INVALID_FIELD    | width
      {"prompt": "p", "height": 200}                       | UNSUPPORTED_SIZE | height
      {"prompt": "p", "height": 2048}                      | UNSUPPORTED_SIZE | height
      {"prompt": "p", "height": "tall"}                    | INVALID_FIELD    | height
      {"prompt": "p", "steps": 0}                          | OUT_OF_RANGE     | steps
      {"prompt": "p", "steps": 51}                         | OUT_OF_RANGE     | steps
      {"prompt": "p", "steps": "20"}                       | INVALID_FIELD    | steps
      {"prompt": "p", "seed": -1}                          | OUT_OF_RANGE     | seed
      {"prompt": "p", "seed": 9007199254740992}            | OUT_OF_RANGE     | seed
      {"prompt": "p", "seed": 9223372036854775808}         | OUT_OF_RANGE     | seed
      {"prompt": "p", "seed": "1"}                         | INVALID_FIELD    | seed
      {"prompt": "p", "seed": 1.5}                         | INVALID_FIELD    | seed
      {"prompt": "p", "guidance": -0.1}                    | OUT_OF_RANGE     | guidance
      {"prompt": "p", "guidance": 20.01}                   | OUT_OF_RANGE     | guidance
      {"prompt": "p", "guidance": "7.5"}                   | INVALID_FIELD    | guidance
      {"prompt": "p", "batch_size": 0}                     | OUT_OF_RANGE     | batch_size
      {"prompt": "p", "batch_size": 5}                     | OUT_OF_RANGE     | batch_size
      {"prompt": "p", "batch_size": 2.5}                   | INVALID_FIELD    | batch_size
      """)
  void rejectsBadInput(String json, ErrorCode code, String field) {
    ApiError error = rejected(json);

    assertThat(error.code()).isEqualTo(code);
    assertThat(error.field()).isEqualTo(field);
    assertThat(error.message()).startsWith(field).hasSizeGreaterThan(field.length() + 5);
    assertThat(error.toJson().getString("code")).isEqualTo(code.wireName());
    assertThat(error.httpStatus()).isEqualTo(400);
  }

  @Test
  void rejectsPromptsOverTheLimit() {
    String tooLong = "x".repeat(CONFIG.edge().maxPromptChars() + 1);

    ApiError prompt = rejected("{\"prompt\": \"" + tooLong + "\"}");
    ApiError negative = rejected("{\"prompt\": \"p\", \"negative_prompt\": \"" + tooLong + "\"}");

    assertThat(prompt.code()).isEqualTo(ErrorCode.PROMPT_TOO_LONG);
    assertThat(prompt.field()).isEqualTo("prompt");
    assertThat(negative.code()).isEqualTo(ErrorCode.PROMPT_TOO_LONG);
    assertThat(negative.field()).isEqualTo("negative_prompt");
  }

  @Test
  void namesTheUnknownFieldEvenWhenOthersAreFine() {
    ApiError error = rejected("{\"prompt\": \"p\", \"width\": 512, \"sampler\": \"euler\"}");

    assertThat(error.field()).isEqualTo("sampler");
    assertThat(error.message()).contains("not a known field");
  }
}
