package dev.genmesh.edge.submit.impl;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;

/**
 * Reads a submit body strictly: one JSON object in UTF-8 and nothing after it, no duplicate
 * keys (parsers disagree on which one wins), at most {@link #MAX_DEPTH} levels deep, numbers of
 * at most {@link #MAX_NUMBER_CHARS} characters. Fractions are kept exact ({@code BigDecimal}),
 * so {@code 9007199254740993.0} is not silently rounded. Pure.
 */
public final class SubmitBody {
  /** A submit is flat; this only stops pathological nesting before any tree is built. */
  public static final int MAX_DEPTH = 16;
  public static final int MAX_NUMBER_CHARS = 100;

  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_DEPTH)
          .maxNumberLength(MAX_NUMBER_CHARS)
          .build())
      .build();

  /** The body, or the error to answer. */
  public record Parsed(JsonObject body, ApiError error) {
    public boolean ok() {
      return error == null;
    }
  }

  private SubmitBody() {}

  public static Parsed parse(Buffer raw) {
    if (raw == null || raw.length() == 0) {
      return invalid("the body must be one JSON object; it is empty");
    }
    try (JsonParser parser = FACTORY.createParser(raw.getBytes())) {
      JsonToken first = parser.nextToken();
      if (first != JsonToken.START_OBJECT) {
        return invalid("the body must be one JSON object");
      }
      JsonObject body = object(parser);
      if (parser.nextToken() != null) {
        return invalid("the body must be one JSON object, with nothing after it");
      }
      return new Parsed(body, null);
    } catch (JsonProcessingException e) {
      return invalid("the body is not valid JSON: " + Echo.of(withoutLocation(e.getOriginalMessage()), 160));
    } catch (IOException e) {
      return invalid("the body could not be read as JSON");
    }
  }

  /** Jackson's message names where the source is; the client has its own body. */
  private static String withoutLocation(String message) {
    String text = message == null ? "" : message;
    for (String tail : new String[] {"\n", " (for root", " at [Source"}) {
      int at = text.indexOf(tail);
      text = at < 0 ? text : text.substring(0, at);
    }
    return text;
  }

  private static Parsed invalid(String message) {
    return new Parsed(null, ApiError.of(ErrorCode.INVALID_JSON, message));
  }

  private static JsonObject object(JsonParser parser) throws IOException {
    JsonObject object = new JsonObject();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      object.put(name, value(parser, parser.nextToken()));
    }
    return object;
  }

  private static JsonArray array(JsonParser parser) throws IOException {
    JsonArray array = new JsonArray();
    for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
      array.add(value(parser, token));
    }
    return array;
  }

  private static Object value(JsonParser parser, JsonToken token) throws IOException {
    return switch (token) {
      case START_OBJECT -> object(parser);
      case START_ARRAY -> array(parser);
      case VALUE_STRING -> parser.getText();
      case VALUE_NUMBER_INT -> parser.getNumberValue();
      case VALUE_NUMBER_FLOAT -> parser.getDecimalValue();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> null;
      default -> throw new IOException("unexpected " + token);
    };
  }
}
