package dev.genmesh.region.api.impl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ByteRangeTest {
  @Test
  void oneRangeIsServedAnythingElseMeansTheWholeImageAndPastTheEndIsUnsatisfiable() {
    assertThat(ByteRange.parse("bytes=0-9", 100)).isEqualTo(new ByteRange(0, 9, true));
    assertThat(ByteRange.parse("bytes=90-200", 100)).isEqualTo(new ByteRange(90, 99, true));
    assertThat(ByteRange.parse("bytes=50-", 100)).isEqualTo(new ByteRange(50, 99, true));
    assertThat(ByteRange.parse("bytes=-10", 100)).isEqualTo(new ByteRange(90, 99, true));
    assertThat(ByteRange.parse("bytes=-500", 100)).isEqualTo(new ByteRange(0, 99, true));
    assertThat(ByteRange.parse("bytes=0-9", 100).contentRange(100)).isEqualTo("bytes 0-9/100");
    assertThat(ByteRange.parse("bytes=0-9", 100).length()).isEqualTo(10);

    assertThat(ByteRange.parse("bytes=100-", 100).satisfiable()).isFalse();
    assertThat(ByteRange.parse("bytes=100-", 100).contentRange(100)).isEqualTo("bytes */100");
    assertThat(ByteRange.parse("bytes=-0", 100).satisfiable()).isFalse();

    assertThat(ByteRange.parse(null, 100)).isNull();
    assertThat(ByteRange.parse("bytes=0-1,5-6", 100)).as("several ranges: the whole image").isNull();
    assertThat(ByteRange.parse("items=0-1", 100)).isNull();
    assertThat(ByteRange.parse("bytes=9-2", 100)).as("invalid: ignored").isNull();
    assertThat(ByteRange.parse("bytes=-", 100)).isNull();
    assertThat(ByteRange.parse("bytes=99999999999999999999-", 100)).isNull();
  }
}
