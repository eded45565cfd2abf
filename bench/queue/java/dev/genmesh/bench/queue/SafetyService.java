package dev.genmesh.bench.queue;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.safety.SafetyVerticle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;

/**
 * The reference safety service alone in its own JVM, as {@code genmesh safety} runs it (one
 * SafetyVerticle on a plain Vert.x, the defaults' blocked terms), so that the genmesh step can
 * measure the region node's CPU apart from the service's. Writes its port to
 * {@code <work_dir>/safety.port} and runs until {@code <work_dir>/safety.stop} appears.
 *
 * <p>Arguments: {@code work_dir}.
 */
public final class SafetyService {
  private SafetyService() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(new BenchArgs(args).required("work_dir"));
    Vertx vertx = Vertx.vertx();
    SafetyVerticle service = new SafetyVerticle(ConfigLoader.defaults().safety(), "127.0.0.1", 0, new SimpleMeterRegistry());
    Blocking.await(vertx.deployVerticle(service));
    Blocking.announceAndWait(work, "safety", service.actualPort());
    Blocking.await(vertx.close());
  }
}
