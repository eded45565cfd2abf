package dev.genmesh.protocol.safety;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class SafetyCheckTest {

  @Test
  void theHandWrittenBodyIsTheJsonObject() {
    byte[] a = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
    byte[] b = {(byte) 0xff, 0, (byte) 0xfe, 'x'};
    for (SafetyCheck check : List.of(
        new SafetyCheck("usw_1", "a \"quoted\" fox ü\n", null, 64, 48, List.of(a, b)),
        new SafetyCheck("usw_2", "one", "no gore", 8, 8, List.of(a)),
        new SafetyCheck("usw_3", "none", "", 8, 8, List.of()))) {
      JsonObject parsed = new JsonObject(check.toBody());
      assertThat(parsed).isEqualTo(check.toJson());
      assertThat(parsed.getJsonArray("images")).hasSize(check.pngs().size());
    }
  }
}
