package dev.genmesh.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ImageKeysTest {
  @Test
  void keysAreAttemptScopedAndParseBack() {
    assertThat(ImageKeys.of("usw_01abc", 3, 1)).isEqualTo("usw_01abc/3/1.png");
    assertThat(ImageKeys.parse("usw_01abc/3/1.png")).contains(new ImageKeys.Parsed("usw_01abc", 3, 1));
    assertThat(ImageKeys.isOf("usw_01abc/3/1.png", "usw_01abc", 3, 1)).isTrue();
    assertThat(ImageKeys.isOf("usw_01abc/2/1.png", "usw_01abc", 3, 1)).isFalse();
    assertThat(ImageKeys.requestPrefix("usw_01abc")).isEqualTo("usw_01abc/");
    assertThat(ImageKeys.parse("usw_01abc/3/")).isEmpty();
    assertThat(ImageKeys.parse("../etc/passwd")).isEmpty();
    assertThat(ImageKeys.parse(null)).isEmpty();
    assertThatThrownBy(() -> ImageKeys.of("a/b", 1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
