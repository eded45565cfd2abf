package dev.genmesh.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class RequestHashTest {

  @Test
  void theSameJsonValueHashesTheSameWhateverItsSpelling() {
    JsonObject one = new JsonObject("{\"prompt\": \"a fox\", \"width\": 512, \"guidance\": 7.5}");
    JsonObject other = new JsonObject().put("guidance", new BigDecimal("75e-1")).put("width", new BigDecimal("512.00"))
        .put("prompt", "a fox");

    assertThat(RequestHash.of("ann", one)).isEqualTo(RequestHash.of("ann", other)).matches("[0-9a-f]{64}");
    assertThat(RequestHash.canonical(other)).isEqualTo("{\"guidance\":7.5,\"prompt\":\"a fox\",\"width\":512}");
    assertThat(RequestHash.canonical(new JsonObject().put("n", BigInteger.TEN.pow(3)).put("z", 0.0)))
        .isEqualTo("{\"n\":1E+3,\"z\":0}");
  }

  @Test
  void anotherBodyOrAnotherCallerHashesDifferently() {
    JsonObject body = new JsonObject().put("prompt", "a fox").put("seed", 1);

    assertThat(RequestHash.of("ann", body)).isNotEqualTo(RequestHash.of("ann", body.copy().put("seed", 2)))
        .isNotEqualTo(RequestHash.of("bob", body))
        .isNotEqualTo(RequestHash.of("ann", body.copy().put("prompt", "a fox ")));
  }

  @Test
  void aHugeExponentIsHashedWithoutExpandingIt() {
    JsonObject body = new JsonObject().put("seed", new BigDecimal("1e999999999"));

    assertThat(RequestHash.canonical(body)).isEqualTo("{\"seed\":1E+999999999}");
  }
}
