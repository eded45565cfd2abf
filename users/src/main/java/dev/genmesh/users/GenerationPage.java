package dev.genmesh.users;

import java.util.List;

/** A page of a user's generations, newest first; {@code nextCursor} is null on the last page. */
public record GenerationPage(List<Generation> generations, String nextCursor) {
  public GenerationPage {
    generations = List.copyOf(generations);
  }
}
