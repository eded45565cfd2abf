package dev.genmesh.client;

import io.vertx.core.Future;

/**
 * A generation's events as they happen, from {@link GenmeshClient#follow}. A broken connection
 * (close {@code 1011}, a reset, a lost network) is resumed with {@code ?after=<last id>}: the
 * handler gets every event once, in order, none missed and none twice.
 */
public interface EventStream extends AutoCloseable {
  /**
   * Completes with the last event ({@link GenerationEvent.Completed}, {@link GenerationEvent.Failed}
   * or {@link GenerationEvent.Cancelled}) once the handler had it; with null when the stream had
   * ended before the {@code after} it was asked from. Fails with a {@link GenmeshException} when
   * the edge refuses the stream (404 for an unknown id or another user's, 401) or stays unreachable
   * for {@link ClientOptions#maxReconnects()} tries in a row.
   */
  Future<GenerationEvent> done();

  /** The id of the last event handed to the handler (0 before any). */
  long lastEventId();

  /** How many times the stream was reconnected after a break. */
  int reconnects();

  /** Frames dropped because their id was not past the last one handed over (an edge replaying). */
  int duplicatesDropped();

  /** Stops following; {@link #done()} fails with code {@code closed} unless it completed already. */
  @Override
  void close();
}
