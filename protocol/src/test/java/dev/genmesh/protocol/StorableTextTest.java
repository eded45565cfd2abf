package dev.genmesh.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StorableTextTest {

  @Test
  void refusesNulAndUnpairedSurrogatesOnly() {
    assertThat(StorableText.problem("a fox \u05d0\u200f \ud83e\udd8a e\u0301")).isNull();
    assertThat(StorableText.problem("a\u0000b")).contains("NUL").contains("index 1");
    assertThat(StorableText.problem("a\ud800")).contains("U+D800");
    assertThat(StorableText.problem("\udc00a")).contains("U+DC00");
    assertThat(StorableText.problem("\ud83e\ud83e")).contains("U+D83E");
  }
}
