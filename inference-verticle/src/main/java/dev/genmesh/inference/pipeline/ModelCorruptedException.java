package dev.genmesh.inference.pipeline;

/**
 * A model file is missing or does not match the SHA-256 in its manifest. The worker must not
 * serve this model: re-fetch it.
 */
public final class ModelCorruptedException extends RuntimeException {

  private final String file;

  public ModelCorruptedException(String file, String reason) {
    super("model file '" + file + "' " + reason);
    this.file = file;
  }

  /** The offending file, relative to the model directory as in the manifest. */
  public String file() {
    return file;
  }
}
