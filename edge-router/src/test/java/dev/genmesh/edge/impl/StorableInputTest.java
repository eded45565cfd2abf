package dev.genmesh.edge.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.edge.submit.impl.SubmitBody;
import dev.genmesh.edge.submit.impl.Validation;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What the stores cannot hold is refused before anything is forwarded (SubmitBody, then RequestValidator). */
class StorableInputTest {
  private final RequestValidator validator = new RequestValidator(ConfigLoader.defaults(), () -> 42L);

  /** The body as the edge reads it, then validated: the error, or null when it is accepted. */
  private ApiError check(String json) {
    SubmitBody.Parsed parsed = SubmitBody.parse(Buffer.buffer(json));
    if (!parsed.ok()) {
      return parsed.error();
    }
    Validation validation = validator.validate(parsed.body(), null);
    return validation.isValid() ? null : validation.error();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"prompt", "negative_prompt", "model", "tier", "adapter", "control_image"})
  void nulAndUnpairedSurrogatesAreRefusedInEveryStringField(String field) {
    for (String bad : new String[] {"a\\u0000b", "a\\ud800b", "a\\udfffb", "\\ud83e", "\\udd8a\\ud83e"}) {
      String json = field.equals("prompt") ? "{\"prompt\": \"" + bad + "\"}"
          : "{\"prompt\": \"p\", \"" + field + "\": \"" + bad + "\"}";

      ApiError error = check(json);

      assertThat(error).as(json).isNotNull();
      assertThat(error.code()).as(json).isEqualTo(ErrorCode.INVALID_VALUE);
      assertThat(error.field()).isEqualTo(field);
      assertThat(error.message()).startsWith(field + " contains");
    }
  }

  @Test
  void oddButStorableUnicodeIsAccepted() {
    String[] prompts = {
      "\\u202egnihton\\u202c a fox", "\\u05e9\\u05d5\\u05e2\\u05dc \\u0628\\u0627\\u0644\\u062b\\u0644\\u062c",
      "\\ud83e\\udd8a\\ud83d\\udc68\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc67", "e\\u0301\\u0302\\u0303\\u0304",
      "\\ufeff\\ufffe\\uffff tabs\\tand\\nlines", "\\u0001\\u001f\\u007f\\u0085"};
    for (String prompt : prompts) {
      assertThat(check("{\"prompt\": \"" + prompt + "\"}")).as(prompt).isNull();
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', textBlock = """
      {"prompt": "p", "prompt": "q"}                 | INVALID_JSON     | duplicate
      {"prompt": "p"} {"prompt": "q"}                | INVALID_JSON     | nothing after
      {"prompt": "p"}]                               | INVALID_JSON     | close marker
      "a fox"                                        | INVALID_JSON     | one JSON object
      {"prompt": "p", "seed": NaN}                   | INVALID_JSON     | not valid JSON
      {"prompt": "p", "seed": 1e999999999}           | OUT_OF_RANGE     | seed
      {"prompt": "p", "seed": -1e999999999}          | OUT_OF_RANGE     | seed
      {"prompt": "p", "seed": 1e-999999999}          | INVALID_FIELD    | whole number
      {"prompt": "p", "seed": 9007199254740993.0}    | OUT_OF_RANGE     | seed
      {"prompt": "p", "seed": 0.5e1}                 | NONE             | -
      {"prompt": "p", "steps": 2e1}                  | NONE             | -
      {"prompt": "p", "steps": 20.000000000000001}   | INVALID_FIELD    | whole number
      {"prompt": "p", "width": 5.12E2}               | NONE             | -
      {"prompt": "p", "width": 1e400}                | UNSUPPORTED_SIZE | width
      {"prompt": "p", "guidance": 1e400}             | OUT_OF_RANGE     | guidance
      {"prompt": "p", "guidance": 1e-400}            | NONE             | -
      {"prompt": "p", "guidance": -1e-400}           | OUT_OF_RANGE     | guidance
      {"prompt": "p", "batch_size": 1.0000}          | NONE             | -
      {"prompt": "p", "batch_size": 12345678901234567890123456789012345678901234567890} | OUT_OF_RANGE | batch_size
      """)
  void numbersAndOddJsonAreReadExactly(String json, String code, String hint) {
    ApiError error = check(json);

    if (code.equals("NONE")) {
      assertThat(error).as(json).isNull();
    } else {
      assertThat(error).as(json).isNotNull();
      assertThat(error.code()).as(json).isEqualTo(ErrorCode.valueOf(code));
      assertThat(error.message() + " " + error.field()).containsIgnoringCase(hint).doesNotContain("Source");
    }
  }

  @Test
  void deepNestingLongNumbersAndBadUtf8AreInvalidJson() {
    assertThat(check("{\"prompt\": " + "[".repeat(100_000)).code()).isEqualTo(ErrorCode.INVALID_JSON);
    assertThat(check("{\"prompt\": \"p\", \"seed\": " + "9".repeat(101) + "}").code()).isEqualTo(ErrorCode.INVALID_JSON);
    byte[] latin1 = "{\"prompt\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
    SubmitBody.Parsed parsed = SubmitBody.parse(Buffer.buffer(latin1));
    assertThat(parsed.error().code()).isEqualTo(ErrorCode.INVALID_JSON);
    assertThat(parsed.error().message()).doesNotContain("\u00e9");
    // Nested within the limit parses, then fails as a field of the wrong type.
    assertThat(check("{\"prompt\": " + "[".repeat(10) + "]".repeat(10) + "}").code()).isEqualTo(ErrorCode.INVALID_FIELD);
  }

  @Test
  void anUnknownFieldIsNamedWithoutQuotingUnprintableOrEndlessText() {
    ApiError error = check("{\"prompt\": \"p\", \"a\\u0000\\ud800" + "x".repeat(500) + "\": 1}");

    assertThat(error.code()).isEqualTo(ErrorCode.INVALID_FIELD);
    assertThat(error.field()).startsWith("a\ufffd\ufffdx").endsWith("...").hasSizeLessThan(80);
    assertThat(error.message()).doesNotContain("\u0000").hasSizeLessThan(400);
  }

  @Test
  void theIdempotencyKeyIsPrintableAsciiAndSentOnce() {
    JsonObject body = new JsonObject().put("prompt", "p");

    assertThat(validator.validate(body, "order 17/a:b~").isValid()).isTrue();
    for (String bad : new String[] {"caf\u00e9", "a\u0000b", "tab\there", "\u007f", "\ud83e\udd8a"}) {
      Validation validation = validator.validate(body, bad);
      assertThat(validation.isValid()).as(bad).isFalse();
      assertThat(validation.error().field()).isEqualTo("Idempotency-Key");
      assertThat(validation.error().message()).contains("printable ASCII");
    }
  }

  @Test
  void aKeyedRequestCarriesTheHashOfItsCallerAndBody() {
    JsonObject body = new JsonObject().put("prompt", "p");

    Validation first = validator.validate(body, "k-1", "ann");
    Validation respelled = validator.validate(SubmitBody.parse(Buffer.buffer("{ \"prompt\" : \"p\" }")).body(), "k-1", "ann");
    Validation otherBody = validator.validate(body.copy().put("steps", 20), "k-1", "ann");
    Validation otherCaller = validator.validate(body, "k-1", "bob");

    assertThat(first.requestHash()).matches("[0-9a-f]{64}").isEqualTo(respelled.requestHash())
        .isNotEqualTo(otherBody.requestHash()).isNotEqualTo(otherCaller.requestHash());
    assertThat(validator.validate(body, null, "ann").requestHash()).as("no key, nothing to compare").isNull();
  }
}
