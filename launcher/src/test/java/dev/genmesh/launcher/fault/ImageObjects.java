package dev.genmesh.launcher.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A region's bucket in the embedded object store, read from its files: S3Proxy's filesystem
 * backend keeps object {@code <id>/<attempt>/<index>.png} at that path under the bucket's folder.
 * Tests see every attempt's objects this way, published or not, without a client.
 */
final class ImageObjects {
  private static final Pattern ATTEMPT = Pattern.compile("\\d+");
  private static final Pattern IMAGE = Pattern.compile("\\d+\\.png");

  private final Path bucketDir;

  ImageObjects(Path bucketDir) {
    this.bucketDir = bucketDir;
  }

  /** The attempts of the request that have objects in the bucket. */
  TreeSet<Integer> attempts(String requestId) {
    TreeSet<Integer> attempts = new TreeSet<>();
    Path dir = bucketDir.resolve(requestId);
    if (!Files.isDirectory(dir)) {
      return attempts;
    }
    try (var entries = Files.list(dir)) {
      entries.filter(e -> ATTEMPT.matcher(e.getFileName().toString()).matches() && !of(requestId,
              Integer.parseInt(e.getFileName().toString())).isEmpty())
          .forEach(e -> attempts.add(Integer.parseInt(e.getFileName().toString())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return attempts;
  }

  /** Image file name ({@code 0.png}, ...) → bytes, of one attempt of the request. */
  Map<String, byte[]> of(String requestId, int attempt) {
    Map<String, byte[]> images = new TreeMap<>();
    Path dir = bucketDir.resolve(requestId).resolve(Integer.toString(attempt));
    if (!Files.isDirectory(dir)) {
      return images;
    }
    try (var files = Files.list(dir)) {
      for (Path file : files.filter(f -> IMAGE.matcher(f.getFileName().toString()).matches()).toList()) {
        images.put(file.getFileName().toString(), Files.readAllBytes(file));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return images;
  }
}
