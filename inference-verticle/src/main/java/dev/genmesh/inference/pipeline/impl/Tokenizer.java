package dev.genmesh.inference.pipeline.impl;

import static dev.genmesh.inference.model.ModelContract.PAD_TOKEN;
import static dev.genmesh.inference.model.ModelContract.TOKEN_LENGTH;
import static dev.genmesh.inference.model.ModelContract.VOCAB_SIZE;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Prompt to token ids: lowercase, split on anything that is not a letter or digit, each word
 * hashed (32-bit FNV-1a of its UTF-8 bytes) into 1..4095, padded with 0 or truncated to 77. No
 * vocabulary file, and the same ids on every machine and JDK.
 */
public final class Tokenizer {

  private static final Pattern SEPARATORS = Pattern.compile("[^\\p{L}\\p{N}]+");
  private static final int FNV_OFFSET = 0x811c9dc5;
  private static final int FNV_PRIME = 0x01000193;

  public int[] encode(String prompt) {
    int[] ids = new int[TOKEN_LENGTH];
    Arrays.fill(ids, PAD_TOKEN);
    if (prompt == null) {
      return ids;
    }
    int n = 0;
    for (String word : SEPARATORS.split(prompt.toLowerCase(Locale.ROOT))) {
      if (word.isEmpty()) {
        continue;
      }
      if (n == TOKEN_LENGTH) {
        break;
      }
      ids[n++] = tokenId(word);
    }
    return ids;
  }

  static int tokenId(String word) {
    int hash = FNV_OFFSET;
    for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= FNV_PRIME;
    }
    return 1 + (int) (Integer.toUnsignedLong(hash) % (VOCAB_SIZE - 1));
  }
}
