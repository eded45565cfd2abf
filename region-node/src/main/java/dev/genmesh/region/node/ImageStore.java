package dev.genmesh.region.node;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Finished images on local disk: {@code <root>/<id>/<index>.png}. A file appears whole or not at
 * all (temp file, fsync, atomic rename, fsync of the folder). Disk work runs on the given
 * worker pool, never on the event loop.
 */
public final class ImageStore {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private final Path root;
  private final WorkerExecutor io;

  public ImageStore(Path root, WorkerExecutor io) {
    this.root = root;
    this.io = io;
  }

  /** The public path of an image, as the edge serves it. */
  public static String publicPath(String id, int index) {
    return "/v1/images/" + id + "/" + index + ".png";
  }

  public static boolean isPng(byte[] bytes) {
    return bytes != null && bytes.length > PNG_SIGNATURE.length
        && Arrays.equals(bytes, 0, PNG_SIGNATURE.length, PNG_SIGNATURE, 0, PNG_SIGNATURE.length);
  }

  /** Where image {@code index} of request {@code id} lives; the id must be well formed. */
  public Path file(String id, int index) {
    return root.resolve(id).resolve(index + ".png");
  }

  /** Writes every image durably; images of an earlier try are replaced. */
  public Future<Void> write(String id, List<byte[]> pngs) {
    return io.executeBlocking(() -> {
      Path dir = root.resolve(id);
      Files.createDirectories(dir);
      for (int i = 0; i < pngs.size(); i++) {
        writeAtomically(dir, i + ".png", pngs.get(i));
      }
      syncDirectory(dir);
      return null;
    }, false);
  }

  /** Reads images 0 .. count-1 back (the safety gate's second look after a restart or an outage). */
  public Future<List<byte[]>> read(String id, int count) {
    return io.executeBlocking(() -> {
      List<byte[]> pngs = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        pngs.add(Files.readAllBytes(file(id, i)));
      }
      return pngs;
    }, false);
  }

  /** Deletes every image of a request (a blocked one is never kept); nothing to delete is fine. */
  public Future<Void> delete(String id) {
    return io.executeBlocking(() -> {
      Path dir = root.resolve(id);
      if (Files.isDirectory(dir)) {
        try (var files = Files.list(dir)) {
          for (Path file : files.toList()) {
            Files.deleteIfExists(file);
          }
        }
        Files.deleteIfExists(dir);
      }
      return null;
    }, false);
  }

  private static void writeAtomically(Path dir, String name, byte[] bytes) throws IOException {
    Path temp = dir.resolve("." + name + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** Makes the renames durable too (a rename lives in the folder's metadata). */
  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Some file systems cannot open a folder for fsync; the files themselves are synced.
    }
  }
}
