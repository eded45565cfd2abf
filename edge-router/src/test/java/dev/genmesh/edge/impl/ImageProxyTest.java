package dev.genmesh.edge.impl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ImageProxyTest {
  @Test
  void matchesEntityTagsWeaklyAndInLists() {
    assertThat(ImageProxy.matches("\"abc\"", "\"abc\"")).isTrue();
    assertThat(ImageProxy.matches("W/\"abc\"", "\"abc\"")).isTrue();
    assertThat(ImageProxy.matches("\"x\", \"abc\"", "W/\"abc\"")).isTrue();
    assertThat(ImageProxy.matches("*", "\"abc\"")).isTrue();
    assertThat(ImageProxy.matches("\"abd\"", "\"abc\"")).isFalse();
    assertThat(ImageProxy.matches(null, "\"abc\"")).isFalse();
    assertThat(ImageProxy.matches("\"abc\"", null)).isFalse();
  }
}
