package dev.genmesh.protocol.safety;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class SafetyCheckTest {
  private static final String SHA = "ab".repeat(32);

  @Test
  void imagesGoByKeyAndUrlNotByBytes() {
    var image = new SafetyCheck.Image("usw_1/2/0.png", "http://store/b/usw_1/2/0.png?X-Amz-Signature=x", 1234, SHA);
    SafetyCheck check = new SafetyCheck("usw_1", "a \"quoted\" fox", null, 64, 48, List.of(image));
    JsonObject body = new JsonObject(check.toJson().encode());
    assertThat(body.getString("negative_prompt")).isEmpty();
    assertThat(SafetyCheck.images(body.getJsonArray("images"))).containsExactly(image);
  }

  @Test
  void malformedImagesNameTheirIndex() {
    assertThatThrownBy(() -> SafetyCheck.images(new JsonArray().add("iVBORw0KGgo=")))
        .hasMessageContaining("images[0]");
    assertThatThrownBy(() -> SafetyCheck.images(new JsonArray().add(new JsonObject().put("key", "k"))))
        .hasMessageContaining("images[0]").hasMessageContaining("url");
    assertThat(SafetyCheck.images(null)).isEmpty();
  }
}
