package dev.genmesh.inference.model;

import dev.genmesh.registry.Sha256;
import java.io.IOException;
import java.nio.file.Path;

/**
 * SHA-256 of a file.
 *
 * @deprecated the registry's {@link Sha256#of(Path)} is the one helper; this delegate remains
 *     only until the launcher's tests, which call it, move over
 */
@Deprecated(forRemoval = true)
public final class FileDigest {

  private FileDigest() {}

  /** Lowercase hex SHA-256, the format {@code sha256sum} prints. */
  public static String sha256(Path file) throws IOException {
    return Sha256.of(file);
  }
}
