package dev.genmesh.safety.impl;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The reference service's prompt rules: a prompt that contains a blocked term as a whole word
 * (or a phrase of whole words), case-insensitively, is blocked. Cheap obfuscations are undone
 * first: accents and zero-width characters, letters split by dots, dashes, spaces or other
 * punctuation ({@code g.o.r.e}, {@code g-o-r-e}, {@code g o r e}, {@code go.re}), digits and
 * symbols for letters inside a word ({@code g0re}, {@code $}), and letters repeated three or
 * more times ({@code gooore}). It is a word list, not an understanding of the prompt.
 */
public final class PromptRules {
  private final List<Term> terms;

  private record Term(String original, String normalized) {}

  public PromptRules(List<String> blockedTerms) {
    List<Term> list = new ArrayList<>();
    for (String term : blockedTerms) {
      String normalized = String.join(" ", words(term));
      if (!normalized.isEmpty()) {
        list.add(new Term(term, normalized));
      }
    }
    this.terms = List.copyOf(list);
  }

  /** One reason per blocked term the text contains; empty when it contains none. */
  public List<String> violations(String text) {
    if (text == null || text.isBlank() || terms.isEmpty()) {
      return List.of();
    }
    List<String> tokens = words(text);
    List<String> views = views(text, tokens);
    List<String> runs = singleLetterRuns(tokens);
    List<String> reasons = new ArrayList<>();
    for (Term term : terms) {
      String needle = " " + term.normalized() + " ";
      String spelled = term.normalized().replace(" ", "");
      if (views.stream().anyMatch(view -> view.contains(needle)) || runs.stream().anyMatch(run -> run.contains(spelled))) {
        reasons.add("prompt contains the blocked term '" + term.original() + "'");
      }
    }
    return reasons;
  }

  /**
   * The text read two ways, each as space-separated normalized words with a space at both
   * ends: split at every non-letter; and whitespace chunks with their punctuation removed
   * ({@code go.re} → {@code gore}).
   */
  private static List<String> views(String text, List<String> tokens) {
    List<String> chunks = new ArrayList<>();
    for (String chunk : clean(text).split("\\s+")) {
      String joined = leet(chunk.replaceAll("[^\\p{L}\\p{N}]", ""));
      if (!joined.isEmpty()) {
        chunks.add(joined);
      }
    }
    Set<String> views = new LinkedHashSet<>();
    views.add(" " + String.join(" ", tokens) + " ");
    views.add(" " + String.join(" ", chunks) + " ");
    return List.copyOf(views);
  }

  /**
   * Runs of two or more one-letter words, joined ({@code a g o r e} → {@code agore}): a term
   * spelled out letter by letter is found inside such a run.
   */
  private static List<String> singleLetterRuns(List<String> tokens) {
    List<String> runs = new ArrayList<>();
    StringBuilder run = new StringBuilder();
    int length = 0;
    for (String token : tokens) {
      if (token.length() == 1) {
        run.append(token);
        length++;
        continue;
      }
      if (length >= 2) {
        runs.add(leet(run.toString()));
      }
      run.setLength(0);
      length = 0;
    }
    if (length >= 2) {
      runs.add(leet(run.toString()));
    }
    return runs;
  }

  /** Lower-case words (letters and digits), obfuscations undone. */
  private static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    for (String token : clean(text).split("[^\\p{L}\\p{N}]+")) {
      if (!token.isEmpty()) {
        out.add(leet(token));
      }
    }
    return out;
  }

  /** Accents and invisible characters gone, lower case, symbols that stand for letters replaced. */
  private static String clean(String text) {
    String decomposed = Normalizer.normalize(text, Normalizer.Form.NFKD)
        .replaceAll("\\p{M}+", "")
        .replaceAll("\\p{Cf}+", "");
    return decomposed.toLowerCase(Locale.ROOT).replace('@', 'a').replace('$', 's');
  }

  /** Digits for letters inside a word that has letters ({@code g0re}); runs of 3+ equal letters shortened. */
  private static String leet(String token) {
    String word = token;
    if (word.chars().anyMatch(Character::isLetter)) {
      word = word.replace('0', 'o').replace('1', 'i').replace('3', 'e').replace('4', 'a').replace('5', 's')
          .replace('7', 't');
    }
    return word.replaceAll("(\\p{L})\\1{2,}", "$1");
  }
}
