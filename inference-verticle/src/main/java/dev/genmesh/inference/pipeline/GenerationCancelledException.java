package dev.genmesh.inference.pipeline;

/** Generation stopped between steps because the caller asked it to. */
public final class GenerationCancelledException extends RuntimeException {

  private final int completedSteps;

  public GenerationCancelledException(int completedSteps, int totalSteps) {
    super("generation cancelled after " + completedSteps + " of " + totalSteps + " steps");
    this.completedSteps = completedSteps;
  }

  public int completedSteps() {
    return completedSteps;
  }
}
