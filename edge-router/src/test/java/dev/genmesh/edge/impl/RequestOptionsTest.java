package dev.genmesh.edge.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.edge.submit.impl.ControlImageCheck;
import dev.genmesh.edge.submit.impl.RequestValidator;
import dev.genmesh.edge.submit.impl.Validation;
import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.ErrorCode;
import dev.genmesh.protocol.GenerationSpec;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Adapters, conditioning images and previews on the bundled defaults: genmesh-tiny declares
 * adapter watercolor@1 and conditioning "edges"; genmesh-small declares neither.
 */
public class RequestOptionsTest {
  private final RequestValidator validator = new RequestValidator(ConfigLoader.defaults(), () -> 42L);

  private Validation validate(JsonObject body) {
    return validator.validate(body, null);
  }

  private ApiError rejected(JsonObject body) {
    Validation validation = validate(body);
    assertThat(validation.isValid()).as("expected %s to be rejected", body.encode()).isFalse();
    return validation.error();
  }

  private static JsonObject request() {
    return new JsonObject().put("prompt", "a red fox").put("width", 256).put("height", 256);
  }

  public static String png(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    var g = image.createGraphics();
    g.setColor(Color.WHITE);
    g.drawOval(width / 4, height / 4, width / 2, height / 2);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Base64.getEncoder().encodeToString(out.toByteArray());
  }

  @Test
  void aDeclaredAdapterIsAcceptedAndPinnedToItsVersion() {
    GenerationSpec spec = validate(request().put("adapter", "watercolor").put("adapter_scale", 0.6)).spec();
    assertThat(spec.adapter()).isEqualTo("watercolor@1");
    assertThat(spec.adapterScale()).isEqualTo(0.6);
    assertThat(validate(request().put("adapter", "watercolor@1")).spec().adapterScale()).isEqualTo(1.0);
    assertThat(validate(request()).spec().hasAdapter()).isFalse();
  }

  @Test
  void anAdapterTheModelDoesNotDeclareIs400OnTheAdapterField() {
    ApiError unknown = rejected(request().put("adapter", "oilpaint"));
    assertThat(unknown.code()).isEqualTo(ErrorCode.INVALID_FIELD);
    assertThat(unknown.field()).isEqualTo("adapter");
    assertThat(unknown.message()).contains("oilpaint").contains("watercolor@1");

    assertThat(rejected(request().put("adapter", "watercolor@7")).field()).isEqualTo("adapter");

    ApiError onSmall = rejected(request().put("model", "genmesh-small").put("adapter", "watercolor"));
    assertThat(onSmall.field()).isEqualTo("adapter");
    assertThat(onSmall.message()).contains("genmesh-small takes no adapters");
  }

  @Test
  void scalesAreCheckedAndNeedTheirOption() {
    assertThat(rejected(request().put("adapter", "watercolor").put("adapter_scale", 2.5)).code()).isEqualTo(ErrorCode.OUT_OF_RANGE);
    assertThat(rejected(request().put("adapter_scale", 0.5)).field()).isEqualTo("adapter_scale");
    assertThat(rejected(request().put("control_scale", 0.5)).field()).isEqualTo("control_scale");
  }

  @Test
  void aControlImageOfTheImageSizeIsAccepted() {
    String image = png(256, 256);
    GenerationSpec spec = validate(request().put("control_image", image).put("control_scale", 0.8)).spec();
    assertThat(spec.controlImage()).isEqualTo(image);
    assertThat(spec.controlScale()).isEqualTo(0.8);
  }

  @Test
  void aMalformedControlImageIs400NamingControlImage() {
    String good = png(256, 256);
    byte[] bytes = Base64.getDecoder().decode(good);
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 20);
    byte[] damaged = bytes.clone();
    damaged[bytes.length / 2] ^= 0x40;

    assertProblem(request().put("control_image", "not base64 at all!"), "not base64");
    assertProblem(request().put("control_image", Base64.getEncoder().encodeToString("GIF89a....".repeat(5).getBytes())),
        "not a PNG");
    assertProblem(request().put("control_image", png(128, 256)), "128x256");
    assertProblem(request().put("control_image", Base64.getEncoder().encodeToString(truncated)), "truncated");
    assertProblem(request().put("control_image", Base64.getEncoder().encodeToString(damaged)), "CRC");
    assertProblem(request().put("control_image", "A".repeat(ControlImageCheck.MAX_BYTES / 3 * 4 + 8)), "larger than");
    assertProblem(request().put("model", "genmesh-small").put("control_image", good), "no conditioning");
    assertProblem(request().put("control_image", 42), "must be a string");
  }

  @Test
  void previewsAreAtMostOnePerStep() {
    assertThat(validate(request().put("steps", 10).put("preview_every", 5)).spec().previewEvery()).isEqualTo(5);
    assertThat(rejected(request().put("steps", 10).put("preview_every", 11)).field()).isEqualTo("preview_every");
    assertThat(validate(request()).spec().previewEvery()).isZero();
  }

  private void assertProblem(JsonObject body, String text) {
    ApiError error = rejected(body);
    assertThat(error.code()).isEqualTo(ErrorCode.INVALID_FIELD);
    assertThat(error.field()).isEqualTo("control_image");
    assertThat(error.message()).contains(text);
  }
}
