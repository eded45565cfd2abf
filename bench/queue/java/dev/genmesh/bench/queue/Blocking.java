package dev.genmesh.bench.queue;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** The benchmark mains drive Vert.x from their own thread: they block here, never on an event loop. */
final class Blocking {
  private static final long TIMEOUT_SECONDS = 120;

  private Blocking() {}

  static <T> T await(Future<T> future) throws Exception {
    return await(future, TIMEOUT_SECONDS);
  }

  static <T> T await(Future<T> future, long seconds) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /**
   * For a helper JVM run.sh starts beside the steps ({@code SafetyService}, {@code Uploader}): writes
   * {@code port} to {@code <work>/<name>.port} (atomically: run.sh polls for it), then blocks until
   * {@code <work>/<name>.stop} appears.
   */
  static void announceAndWait(Path work, String name, int port) throws Exception {
    Path temp = work.resolve(name + ".port.tmp");
    Files.writeString(temp, Integer.toString(port));
    Files.move(temp, work.resolve(name + ".port"));
    System.err.println(name + " up on 127.0.0.1:" + port + " (pid " + ProcessHandle.current().pid() + ")");
    Path stop = work.resolve(name + ".stop");
    while (!Files.exists(stop)) {
      Thread.sleep(200);
    }
  }

  /** One JSON object per line; run.sh collects every side's results in one file. */
  static void appendResult(Path file, JsonObject result) throws Exception {
    Files.writeString(file, result.encode() + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    System.out.println(result.encodePrettily());
  }
}
