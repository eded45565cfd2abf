package dev.genmesh.protocol.safety;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * What the region asks the Safety API about one finished request: the body of
 * {@code POST /v1/check} (region-node/SAFETY.md).
 *
 * @param pngs the images as the worker produced them (sent base64-encoded)
 */
public record SafetyCheck(String requestId, String prompt, String negativePrompt, int width, int height,
    List<byte[]> pngs) {

  public SafetyCheck {
    pngs = List.copyOf(pngs);
  }

  /**
   * The request body, as {@link #toJson()} encodes it, written without Jackson for the images:
   * base64 needs no JSON escaping, and having Jackson scan every character of each image's
   * base64 string (hundreds of KB at 512×512) was a visible share of the node's CPU per check.
   */
  public Buffer toBody() {
    byte[] fields = fields().encode().getBytes(StandardCharsets.UTF_8); // a non-empty object: {...}
    int size = fields.length + 16;
    for (byte[] png : pngs) {
      size += 4 * ((png.length + 2) / 3) + 3;
    }
    Buffer body = Buffer.buffer(size).appendBytes(fields, 0, fields.length - 1).appendString(",\"images\":[");
    Base64.Encoder base64 = Base64.getEncoder();
    for (int i = 0; i < pngs.size(); i++) {
      body.appendString(i == 0 ? "\"" : ",\"").appendBytes(base64.encode(pngs.get(i))).appendString("\"");
    }
    return body.appendString("]}");
  }

  public JsonObject toJson() {
    JsonArray images = new JsonArray();
    Base64.Encoder base64 = Base64.getEncoder();
    pngs.forEach(png -> images.add(base64.encodeToString(png)));
    return fields().put("images", images);
  }

  private JsonObject fields() {
    return new JsonObject()
        .put("request_id", requestId)
        .put("prompt", prompt)
        .put("negative_prompt", negativePrompt == null ? "" : negativePrompt)
        .put("width", width)
        .put("height", height);
  }
}
