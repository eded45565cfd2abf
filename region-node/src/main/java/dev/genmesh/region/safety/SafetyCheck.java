package dev.genmesh.region.safety;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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

  public JsonObject toJson() {
    JsonArray images = new JsonArray();
    Base64.Encoder base64 = Base64.getEncoder();
    pngs.forEach(png -> images.add(base64.encodeToString(png)));
    return new JsonObject()
        .put("request_id", requestId)
        .put("prompt", prompt)
        .put("negative_prompt", negativePrompt == null ? "" : negativePrompt)
        .put("width", width)
        .put("height", height)
        .put("images", images);
  }
}
