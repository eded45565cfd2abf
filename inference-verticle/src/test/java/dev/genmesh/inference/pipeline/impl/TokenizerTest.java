package dev.genmesh.inference.pipeline.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.inference.model.ModelContract;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TokenizerTest {

  private final Tokenizer tokenizer = new Tokenizer();

  @Test
  void lowercasesSplitsAndPads() {
    int[] ids = tokenizer.encode("A Red-Fox, in the SNOW!");
    assertThat(ids).hasSize(ModelContract.TOKEN_LENGTH);
    assertThat(Arrays.copyOf(ids, 5)).containsExactly(
        Tokenizer.tokenId("a"), Tokenizer.tokenId("red"), Tokenizer.tokenId("fox"),
        Tokenizer.tokenId("in"), Tokenizer.tokenId("the"));
    assertThat(ids[5]).isEqualTo(Tokenizer.tokenId("snow"));
    assertThat(Arrays.copyOfRange(ids, 6, ids.length)).containsOnly(ModelContract.PAD_TOKEN);
    assertThat(tokenizer.encode("a red fox in the snow")).isEqualTo(ids);
  }

  @Test
  void idsAreStableAndInRange() {
    // FNV-1a("fox") = 0xb6f3934e; 1 + that % 4095 = 831. Pinned: a changed hash re-maps every
    // prompt of every deployed model, so it must be a deliberate break.
    assertThat(Tokenizer.tokenId("fox")).isEqualTo(831);
    for (String word : new String[] {"a", "fox", "żółw", "42", "lighthouse"}) {
      assertThat(Tokenizer.tokenId(word)).isBetween(1, ModelContract.VOCAB_SIZE - 1);
    }
    assertThat(Tokenizer.tokenId("fox")).isNotEqualTo(Tokenizer.tokenId("cat"));
  }

  @Test
  void truncatesLongPromptsAndHandlesEmptyOnes() {
    String longPrompt = "word ".repeat(200);
    assertThat(tokenizer.encode(longPrompt)).hasSize(ModelContract.TOKEN_LENGTH)
        .containsOnly(Tokenizer.tokenId("word"));
    assertThat(tokenizer.encode("")).containsOnly(ModelContract.PAD_TOKEN);
    assertThat(tokenizer.encode("  ,,; ")).containsOnly(ModelContract.PAD_TOKEN);
    assertThat(tokenizer.encode(null)).containsOnly(ModelContract.PAD_TOKEN);
  }
}
