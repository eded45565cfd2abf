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

  /** One JSON object per line; run.sh collects every side's results in one file. */
  static void appendResult(Path file, JsonObject result) throws Exception {
    Files.writeString(file, result.encode() + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    System.out.println(result.encodePrettily());
  }
}
