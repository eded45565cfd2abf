package dev.genmesh.inference.registry;

/** A version that could not be had whole: not published, or still corrupted after every pull. */
final class VersionUnusable extends Exception {
  VersionUnusable(String message) {
    super(message, null, false, false);
  }
}
