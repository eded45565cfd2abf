package dev.genmesh.inference.registry;

/** The registry did not answer (not the version's fault): try again later, or use what is cached. */
final class RegistryUnavailable extends RuntimeException {
  RegistryUnavailable(String message, Throwable cause) {
    super(message, cause);
  }
}
