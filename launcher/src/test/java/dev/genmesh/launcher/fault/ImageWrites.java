package dev.genmesh.launcher.fault;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Counts the image files a region node puts in place for one request, by watching the request's
 * image folder (inotify) from before the first write. The region writes each image to a temp file
 * and renames it into place, so every image set written shows as one creation per image file, even
 * when a second set has the same bytes as the first (same seed, same model).
 */
final class ImageWrites implements AutoCloseable {
  private static final Pattern IMAGE = Pattern.compile("\\d+\\.png");

  private final Path dir;
  private final WatchService watcher;
  private final Map<String, Integer> created = new TreeMap<>();

  private ImageWrites(Path dir, WatchService watcher) {
    this.dir = dir;
    this.watcher = watcher;
  }

  /** Watches {@code <imagesRoot>/<id>} (created now if the region has not yet: it writes into an existing folder as well). */
  static ImageWrites watch(Path imagesRoot, String requestId) {
    Path dir = imagesRoot.resolve(requestId);
    try {
      Files.createDirectories(dir);
      WatchService watcher = dir.getFileSystem().newWatchService();
      dir.register(watcher, ENTRY_CREATE);
      return new ImageWrites(dir, watcher);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot watch " + dir, e);
    }
  }

  /** Image file name ({@code 0.png}, ...) → how many times it was put in place so far. */
  synchronized Map<String, Integer> created() {
    WatchKey key;
    while ((key = watcher.poll()) != null) {
      for (WatchEvent<?> event : key.pollEvents()) {
        if (event.kind() == OVERFLOW) {
          throw new AssertionError("file events of " + dir + " were lost: the writes cannot be counted");
        }
        String name = event.context().toString();
        if (IMAGE.matcher(name).matches()) {
          created.merge(name, 1, Integer::sum);
        }
      }
      key.reset();
    }
    return new TreeMap<>(created);
  }

  /** How many image sets were written: the most times any one image file was put in place. */
  int sets() {
    return created().values().stream().mapToInt(Integer::intValue).max().orElse(0);
  }

  @Override
  public void close() {
    try {
      watcher.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
