package dev.genmesh.bench.queue;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * C closed-loop submitters: each POSTs a request and sends the next once that one was
 * acknowledged and completed (see {@link Round}). They run on one context of the load
 * generator's Vert.x: a request finished by a worker's result (on the virtual workers' thread)
 * sends the next from there, so that building and sending it counts as the generator's CPU.
 */
final class HttpSubmitters {
  private static final String PATH = "/regional/v1/generations";

  private final WebClient client;
  private final Context context;
  private final int port;
  private final int concurrency;
  private final AtomicInteger loggedErrors = new AtomicInteger();

  HttpSubmitters(Vertx vertx, int port, int concurrency) {
    this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(concurrency));
    this.context = vertx.getOrCreateContext();
    this.port = port;
    this.concurrency = concurrency;
  }

  void start(Round round) {
    round.onRequestDone(() -> context.runOnContext(v -> submitNext(round)));
    for (int i = 0; i < concurrency; i++) {
      context.runOnContext(v -> submitNext(round));
    }
  }

  private void submitNext(Round round) {
    int seq = round.take();
    if (seq < 0) {
      return;
    }
    Buffer body = BenchSpec.json(round.name, seq).toBuffer();
    round.sent(seq);
    client.post(port, "127.0.0.1", PATH).putHeader("content-type", "application/json").sendBuffer(body)
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result().statusCode() == 202) {
            round.acknowledged(seq);
          } else {
            round.submitFailed(seq);
            if (loggedErrors.incrementAndGet() <= 5) {
              System.err.println("submit " + seq + " failed: "
                  + (ar.succeeded() ? ar.result().statusCode() + " " + ar.result().bodyAsString() : ar.cause()));
            }
          }
        });
  }

  void close() {
    client.close();
  }
}
