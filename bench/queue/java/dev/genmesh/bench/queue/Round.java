package dev.genmesh.bench.queue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * One batch of numbered requests (the warm-up, then the measured run), sent by closed-loop
 * submitters: a submitter sends its next request once its previous one was both acknowledged
 * (202) and completed, so at most C requests are in flight and the latency is the request's
 * own, not the age of a backlog. Written from several event loops.
 */
final class Round {
  final String name;
  final int count;
  /** Sent → completion acknowledged to the worker. */
  final Latencies endToEnd;
  /** Sent → submit acknowledged (202). */
  final Latencies submitted;
  final AtomicInteger failedSubmits = new AtomicInteger();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger finished = new AtomicInteger();
  /** Per request: how many of {acknowledged, completed} happened. */
  private final AtomicIntegerArray halves;
  private final Promise<Void> done = Promise.promise();
  private volatile Runnable onRequestDone = () -> {};

  Round(String name, int count) {
    this.name = name;
    this.count = count;
    this.endToEnd = new Latencies(count);
    this.submitted = new Latencies(count);
    this.halves = new AtomicIntegerArray(count);
  }

  /** Called (on any thread) each time a request is finished, to let its submitter send the next. */
  void onRequestDone(Runnable action) {
    this.onRequestDone = action;
  }

  /** The next sequence number to send, or -1 when all were taken. */
  int take() {
    int seq = next.getAndIncrement();
    return seq < count ? seq : -1;
  }

  void sent(int seq) {
    long now = System.nanoTime();
    endToEnd.start(seq, now);
    submitted.start(seq, now);
  }

  void acknowledged(int seq) {
    submitted.end(seq, System.nanoTime());
    half(seq);
  }

  /** The submit failed: the request will never complete, so it counts as finished. */
  void submitFailed(int seq) {
    failedSubmits.incrementAndGet();
    halves.set(seq, 2);
    finish();
  }

  /** A worker's completion was acknowledged; a second completion of one request is ignored. */
  void completed(int seq) {
    if (seq >= 0 && seq < count && !endToEnd.ended(seq)) {
      endToEnd.end(seq, System.nanoTime());
      half(seq);
    }
  }

  int finished() {
    return finished.get();
  }

  Future<Void> done() {
    return done.future();
  }

  private void half(int seq) {
    if (halves.incrementAndGet(seq) == 2) {
      finish();
    }
  }

  private void finish() {
    if (finished.incrementAndGet() == count) {
      done.tryComplete();
    }
    onRequestDone.run();
  }
}
