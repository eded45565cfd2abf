package dev.genmesh.protocol;

/** Failure codes for {@code Message.fail(code, text)} on the event bus. */
public final class BusFailure {
  private BusFailure() {}

  /** The queue had nothing for this worker. */
  public static final int NO_WORK = 204;
  /** The message was malformed. */
  public static final int BAD_MESSAGE = 400;
  /** The request is not (or no longer) held by this worker and attempt: drop the result. */
  public static final int STALE_ATTEMPT = 409;
  /** The region could not do it now (storage down); the sender may retry. */
  public static final int UNAVAILABLE = 503;
}
