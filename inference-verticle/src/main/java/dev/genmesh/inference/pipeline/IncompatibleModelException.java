package dev.genmesh.inference.pipeline;

/** The model loaded but does not honour the genmesh signature contract. */
public final class IncompatibleModelException extends RuntimeException {

  public IncompatibleModelException(String message) {
    super(message);
  }
}
