package dev.genmesh.edge;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ModelConfig;
import dev.genmesh.edge.submit.impl.RequestValidator;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates submits for {@link EdgeFuzzTest}: valid ones in odd spellings, the same with one
 * field made odd, malformed JSON, huge bodies, odd headers. Each case says what the edge may
 * answer: 202 only, a 4xx only, or either. Deterministic for a seed.
 */
final class FuzzCases {
  /** What the edge may answer. */
  enum Expect { ACCEPT, REJECT, EITHER }

  /** One raw HTTP request and what may come back; {@code kind} groups it, {@code what} names it in a failure. */
  record Case(String kind, String what, byte[] request, Expect expect) {}

  /** Text pieces: storable oddities (RTL, emoji, combining marks...) and what no store holds. */
  private static final String[] STORABLE = {
    "a fox", "\u202egnihton\u202c", "\u200f\u05e9\u05d5\u05e2\u05dc", "\u0628\u0627\u0644\u062b\u0644\u062c",
    "\ud83e\udd8a", "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "e\u0301\u0302\u0303", "\ufeff", "\uffff",
    "\u0001\u001f", "\t\n\r", "\"quoted\" \\ back\\slash", "</script>", "%00", "\\u0000", "ＡＢＣ", "\u00a0", " ",
  };
  private static final String[] UNSTORABLE = {"\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800"};

  private final Random random;
  private final Map<String, ModelConfig> models;
  private final int maxBodyBytes;
  private final int maxPromptChars;

  FuzzCases(Random random, GenmeshConfig config, int maxBodyBytes) {
    this.random = random;
    this.models = config.models();
    this.maxBodyBytes = maxBodyBytes;
    this.maxPromptChars = config.edge().maxPromptChars();
  }

  Case next() {
    int pick = random.nextInt(20);
    if (pick < 6) {
      return withHeaders(validBody(), Expect.ACCEPT, "valid", "valid");
    } else if (pick < 10) {
      return oneOddField();
    } else if (pick < 13) {
      return unstorableText();
    } else if (pick < 17) {
      return withHeaders(malformedJson(), Expect.REJECT, "malformed JSON", "malformed JSON");
    } else if (pick < 18) {
      return withHeaders(huge(), Expect.REJECT, "huge body", "huge body");
    }
    return oddHeaders();
  }

  // ---- bodies --------------------------------------------------------------------------

  /** A valid submit, as JSON text, with numbers spelled in any valid way and fields in any order. */
  private String validBody() {
    Map<String, String> fields = validFields();
    List<String> names = new ArrayList<>(fields.keySet());
    java.util.Collections.shuffle(names, random);
    StringBuilder json = new StringBuilder("{");
    for (String name : names) {
      json.append(json.length() > 1 ? "," : "").append(space()).append(quote(name)).append(space()).append(':')
          .append(space()).append(fields.get(name));
    }
    return json.append(space()).append('}').toString();
  }

  private Map<String, String> validFields() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("prompt", quote(storableText(true)));
    List<String> names = new ArrayList<>(models.keySet());
    ModelConfig model = models.get(names.get(random.nextInt(names.size())));
    if (random.nextBoolean()) {
      fields.put("model", quote(model.name()));
    } else {
      model = models.values().iterator().next();
    }
    if (random.nextInt(3) == 0) {
      fields.put("negative_prompt", random.nextBoolean() ? "null" : quote(storableText(false)));
    }
    if (random.nextInt(3) == 0) {
      String tier = List.of("turbo", "fast", "relax", " TURBO ", "Relax").get(random.nextInt(5));
      fields.put("tier", quote(tier));
    }
    if (random.nextInt(3) == 0) {
      int sizes = (model.maxSize() - model.minSize()) / model.sizeMultiple();
      fields.put("width", whole(model.minSize() + model.sizeMultiple() * random.nextInt(sizes + 1)));
      fields.put("height", whole(model.minSize() + model.sizeMultiple() * random.nextInt(sizes + 1)));
    }
    int steps = model.minSteps() + random.nextInt(model.maxSteps() - model.minSteps() + 1);
    if (random.nextInt(3) == 0) {
      fields.put("steps", whole(steps));
      if (random.nextBoolean()) {
        fields.put("preview_every", whole(random.nextInt(steps + 1)));
      }
    }
    if (random.nextInt(3) == 0) {
      long seed = switch (random.nextInt(3)) {
        case 0 -> 0;
        case 1 -> RequestValidator.MAX_SEED;
        default -> random.nextLong() & RequestValidator.MAX_SEED;
      };
      fields.put("seed", whole(seed));
    }
    if (random.nextInt(3) == 0) {
      double guidance = model.minGuidance() + random.nextInt(41) * (model.maxGuidance() - model.minGuidance()) / 40;
      fields.put("guidance", decimal(BigDecimal.valueOf(guidance)));
    }
    if (random.nextInt(3) == 0) {
      fields.put("batch_size", whole(1 + random.nextInt(model.maxBatch())));
    }
    if (random.nextInt(4) == 0) {
      fields.put("allow_fallback", random.nextBoolean() ? "true" : "false");
    }
    return fields;
  }

  /** A valid body with one field replaced by something odd: a value no store holds is refused, the rest may pass or not. */
  private Case oneOddField() {
    Map<String, String> fields = validFields();
    List<String> names = new ArrayList<>(RequestValidator.FIELDS);
    names.add("promt");
    names.add("\u0000");
    names.add("\ud800x");
    String field = names.get(random.nextInt(names.size()));
    Expect expect = Expect.EITHER;
    String value;
    switch (random.nextInt(5)) {
      case 0 -> {
        value = quote(storableText(false) + UNSTORABLE[random.nextInt(UNSTORABLE.length)] + storableText(false));
        expect = Expect.REJECT;
      }
      case 1 -> value = oddNumber();
      case 2 -> value = quote(storableText(random.nextBoolean()));
      case 3 -> value = List.of("true", "null", "[]", "{}", "[1, \"a\"]", "{\"a\": {\"b\": null}}", "\"\"").get(random.nextInt(7));
      default -> value = quote("x".repeat(maxPromptChars + random.nextInt(3)));
    }
    fields.put(field, value);
    StringBuilder json = new StringBuilder("{");
    fields.forEach((name, text) -> json.append(json.length() > 1 ? "," : "").append(quote(name)).append(':').append(text));
    return withHeaders(json.append('}').toString(), expect, "odd field", "odd " + FuzzCases.printable(field));
  }

  /** A valid body whose text field carries a NUL or an unpaired surrogate somewhere: always refused. */
  private Case unstorableText() {
    Map<String, String> fields = validFields();
    String field = List.of("prompt", "prompt", "negative_prompt", "model", "tier").get(random.nextInt(5));
    String bad = UNSTORABLE[random.nextInt(UNSTORABLE.length)];
    String good = field.equals("model") ? models.keySet().iterator().next() : field.equals("tier") ? "fast" : "p" + storableText(false);
    // At a code point boundary: "\udc00\ud800" inside a pair would make two valid pairs.
    int at = good.offsetByCodePoints(0, random.nextInt(good.codePointCount(0, good.length()) + 1));
    fields.put(field, quote(good.substring(0, at) + bad + good.substring(at)));
    StringBuilder json = new StringBuilder("{");
    fields.forEach((name, text) -> json.append(json.length() > 1 ? "," : "").append(quote(name)).append(':').append(text));
    return withHeaders(json.append('}').toString(), Expect.REJECT, "unstorable text", "unstorable " + field);
  }

  private String malformedJson() {
    String valid = validBody();
    return switch (random.nextInt(9)) {
      case 0 -> valid.substring(0, random.nextInt(valid.length()));
      case 1 -> valid + List.of("}", "]", "x", "{}", " 1", ",").get(random.nextInt(6));
      case 2 -> "{\"prompt\": \"a\", \"prompt\": \"b\"}";
      case 3 -> "{\"prompt\": " + "[".repeat(17 + random.nextInt(100_000)) + "]".repeat(random.nextInt(3));
      case 4 -> List.of("[]", "\"a fox\"", "42", "null", "true", "", " ").get(random.nextInt(7));
      case 5 -> valid.replaceFirst(":", List.of("=", "::", "").get(random.nextInt(3)));
      case 6 -> "{\"prompt\": \"a\", \"seed\": " + List.of("NaN", "Infinity", "-", "01", "1.", ".5", "0x10", "1e", "+1")
          .get(random.nextInt(9)) + "}";
      case 7 -> "{\"prompt\": \"a\", \"seed\": " + "9".repeat(101 + random.nextInt(1000)) + "}";
      default -> "{'prompt': 'single quotes'}";
    };
  }

  private String huge() {
    String filler = "x".repeat(maxBodyBytes + 1 + random.nextInt(maxBodyBytes));
    return "{\"prompt\": \"" + filler + "\"}";
  }

  // ---- headers -------------------------------------------------------------------------

  private Case oddHeaders() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    Expect expect = Expect.ACCEPT;
    String what;
    byte[] body = validBody().getBytes(StandardCharsets.UTF_8);
    switch (random.nextInt(8)) {
      case 6 -> {
        // The body ends before its Content-Length: the body deadline answers.
        byte[] head = RawHttp.request("POST", "/v1/generations", close(headers), null);
        String declared = "Content-Length: " + (body.length + 1 + random.nextInt(100)) + "\r\n\r\n";
        byte[] start = java.util.Arrays.copyOf(head, head.length - 2);
        return new Case("odd header", "short body", concat(start, declared.getBytes(StandardCharsets.US_ASCII), body),
            Expect.REJECT);
      }
      case 7 -> {
        headers.put("Transfer-Encoding", "chunked");
        byte[] head = RawHttp.request("POST", "/v1/generations", close(headers), null);
        int split = random.nextInt(body.length + 1);
        String first = Integer.toHexString(split) + "\r\n";
        String second = "\r\n" + Integer.toHexString(body.length - split) + "\r\n";
        byte[] chunked = concat(head, first.getBytes(StandardCharsets.US_ASCII), java.util.Arrays.copyOf(body, split),
            second.getBytes(StandardCharsets.US_ASCII), java.util.Arrays.copyOfRange(body, split, body.length),
            "\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        // A zero-length first chunk ends the body early: then it is half a JSON object, or none.
        return new Case("odd header", "chunked", chunked, split == 0 ? Expect.REJECT : Expect.ACCEPT);
      }
      case 0 -> {
        String key = List.of("k\u00e9y", "tab\there", "k".repeat(201), "\u007f", "a\u0001b").get(random.nextInt(5));
        headers.put("Idempotency-Key", key);
        expect = Expect.REJECT;
        what = "Idempotency-Key " + printable(key);
      }
      case 1 -> {
        headers.put("Authorization", List.of("Bearer nope", "Basic abc", "Bearer", "\u00ff").get(random.nextInt(4)));
        expect = Expect.REJECT;
        what = "unknown Authorization";
      }
      case 2 -> {
        headers.put("X-Odd-" + random.nextInt(100), List.of("\u00e9\u00ff", "a".repeat(4000), "", "\"\\").get(random.nextInt(4)));
        expect = Expect.ACCEPT;
        what = "odd extra header";
      }
      case 3 -> {
        headers.put("Content-Type", List.of("text/plain", "application/json; charset=latin1", "", "*/*").get(random.nextInt(4)));
        what = "odd Content-Type";
      }
      case 4 -> {
        headers.put("X-Big", "b".repeat(9_000));
        expect = Expect.REJECT;
        what = "headers too large";
      }
      default -> {
        headers.put(List.of("Bad Name", "Bad:Name", "\u00e9", "(x)").get(random.nextInt(4)), "v");
        expect = Expect.EITHER;
        what = "malformed header name";
      }
    }
    return new Case("odd header", what, RawHttp.request("POST", "/v1/generations", close(headers), body), expect);
  }

  private Case withHeaders(String json, Expect expect, String kind, String what) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    if (random.nextInt(4) == 0) {
      headers.put("Idempotency-Key", "fuzz-" + Long.toHexString(random.nextLong()));
    }
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    byte[] body = random.nextInt(10) == 0 ? latin1OrBroken(json) : utf8;
    if (!java.util.Arrays.equals(body, utf8)) {
      expect = Expect.EITHER; // the mangled bytes may still read as some JSON
      what += " (bytes not UTF-8)";
    }
    return new Case(kind, what, RawHttp.request("POST", "/v1/generations", close(headers), body), expect);
  }

  /** Non-ASCII characters as ISO-8859-1 bytes, or a raw invalid UTF-8 sequence: not UTF-8 either way. */
  private byte[] latin1OrBroken(String json) {
    if (random.nextBoolean() && json.chars().anyMatch(c -> c > 0x7f && c <= 0xff)) {
      return json.getBytes(StandardCharsets.ISO_8859_1);
    }
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    int at = json.indexOf("\"prompt\"");
    if (at < 0 || utf8.length < 14) {
      return utf8;
    }
    byte[] broken = utf8.clone();
    broken[Math.min(broken.length - 3, at + 12)] = (byte) List.of(0xc0, 0xff, 0x80, 0xed).get(random.nextInt(4)).intValue();
    return broken;
  }

  /** Text for a failure message: non-printable characters as escapes, at most 60 characters. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder();
    text.codePoints().limit(60).forEach(c -> out.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\u%04x", c)));
    return out.toString();
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static Map<String, String> close(Map<String, String> headers) {
    headers.put("Connection", "close");
    return headers;
  }

  // ---- values --------------------------------------------------------------------------

  /** Storable text; when {@code nonBlank}, starting with a letter and within the prompt limit. */
  private String storableText(boolean nonBlank) {
    StringBuilder text = new StringBuilder(nonBlank ? "p" : "");
    int pieces = random.nextInt(6);
    for (int i = 0; i < pieces; i++) {
      text.append(STORABLE[random.nextInt(STORABLE.length)]);
    }
    return text.toString();
  }

  /** A number in an odd spelling: huge, tiny, negative, fractional, exponent; or a string of digits. */
  private String oddNumber() {
    return switch (random.nextInt(8)) {
      case 0 -> "1e" + random.nextInt(1_000_000_000);
      case 1 -> "-1e-" + random.nextInt(1_000_000_000);
      case 2 -> Long.toString(random.nextLong());
      case 3 -> new BigDecimal(random.nextGaussian() * 1e6).toPlainString();
      case 4 -> "9".repeat(1 + random.nextInt(99));
      case 5 -> "\"" + random.nextInt(2000) + "\"";
      case 6 -> List.of("-0", "0.0", "0e0", "1E+2", "512.000", "1.5", "-512").get(random.nextInt(7));
      default -> Integer.toString(random.nextInt(3000) - 1000);
    };
  }

  /** A whole number in one of its valid spellings: 512, 512.0, 5.12e2, 5.12E+2, 0.512e3. */
  private String whole(long value) {
    BigDecimal exact = BigDecimal.valueOf(value);
    return switch (random.nextInt(5)) {
      case 0 -> exact.toPlainString() + ".0";
      case 1 -> value == 0 ? "0e5" : exact.stripTrailingZeros().toString().toLowerCase().replace("e+", "e");
      case 2 -> value == 0 ? "-0" : exact.movePointLeft(3).toPlainString() + "e3";
      default -> exact.toPlainString();
    };
  }

  private String decimal(BigDecimal value) {
    return random.nextBoolean() ? value.toPlainString() : value.movePointLeft(2).toPlainString() + "E+2";
  }

  private String space() {
    return List.of("", " ", "\n", "\t ", "\r\n").get(random.nextInt(5));
  }

  /**
   * A JSON string. Control characters and unpaired surrogates are escaped (an unpaired surrogate
   * has no UTF-8 form: the escape is the only way it travels); other non-ASCII characters and
   * surrogate pairs are written raw or escaped at random.
   */
  private String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean pair = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (pair && random.nextBoolean()) {
        out.append(c).append(text.charAt(++i));
      } else if (c < 0x20 || Character.isSurrogate(c) || (c > 0x7e && random.nextBoolean())) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
