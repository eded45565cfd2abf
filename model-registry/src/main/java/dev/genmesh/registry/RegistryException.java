package dev.genmesh.registry;

/** A registry operation was refused (bad bundle, version already published, nothing to roll back to). */
public final class RegistryException extends RuntimeException {
  public RegistryException(String message) {
    super(message);
  }

  public RegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
