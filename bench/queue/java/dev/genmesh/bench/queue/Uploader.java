package dev.genmesh.bench.queue;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.ImageStores;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;

/**
 * The virtual workers' uploads in a JVM of their own, as a real worker's run in its own process:
 * {@code POST /put?key=K} puts the bench PNG under K in the region's bucket through the same
 * {@code ImageStores.s3} client a worker uses, and answers 204 once it is stored (500 otherwise).
 * Without it the S3 client ran in the region node's JVM, and its JIT compilation (the SDK's request
 * pipeline, thousands of methods) counted in the node's CPU (docs/benchmarks.md, "Node CPU, JIT and
 * the group commit's linger"). Writes its port to {@code <work_dir>/uploader.port} and runs until
 * {@code <work_dir>/uploader.stop} appears.
 *
 * <p>Arguments: {@code work_dir s3_endpoint s3_credentials [region=us-west]}.
 */
public final class Uploader {
  private Uploader() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = new BenchArgs(args);
    Path work = Path.of(a.required("work_dir"));
    GenmeshConfig config = ConfigLoader.defaults();
    config = config.withImages(config.images().withStore(a.required("s3_endpoint"), a.required("s3_credentials")));
    Vertx vertx = Vertx.vertx();
    ImageStore store = ImageStores.s3(vertx, config.images().forRegion(a.string("region", "us-west")));
    Buffer png = Buffer.buffer(BenchSpec.png());
    HttpServer server = vertx.createHttpServer().requestHandler(request -> {
      String key = request.getParam("key");
      if (key == null) {
        request.response().setStatusCode(400).end();
        return;
      }
      store.put(key, png, ImageStores.PNG, ImageStores.IMMUTABLE).onComplete(ar -> {
        if (ar.failed()) {
          System.err.println("upload of " + key + " failed: " + ar.cause());
        }
        request.response().setStatusCode(ar.succeeded() ? 204 : 500).end();
      });
    });
    Blocking.await(server.listen(0, "127.0.0.1"));
    Blocking.announceAndWait(work, "uploader", server.actualPort());
    Blocking.await(store.close());
    Blocking.await(vertx.close());
  }
}
