package dev.genmesh.registry.impl;

import java.util.Locale;

/** Why a mirror's step failed; the reason is the {@code reason} tag of the failure counter. */
public final class MirrorFailure extends RuntimeException {
  /** What went wrong, from the mirror's point of view. */
  public enum Reason {
    /** The primary did not answer (refused, timed out, a 5xx). */
    UNREACHABLE,
    /** The primary does not have it (404). */
    NOT_ON_PRIMARY,
    /** The primary answered something unusable (not JSON, a manifest for another version, an unsafe path). */
    BAD_ANSWER,
    /** A file arrived whose size or SHA-256 is not the manifest's: refused, not published. */
    CHECKSUM,
    /** This region's disk failed us. */
    LOCAL_IO;

    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Reason reason;
  private volatile boolean reported;

  public MirrorFailure(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public MirrorFailure(Reason reason, String message) {
    this(reason, message, null);
  }

  public Reason reason() {
    return reason;
  }

  /** Counted and logged already (by the step that failed), so a round that ends with it does not again. */
  public boolean reported() {
    return reported;
  }

  public void markReported() {
    reported = true;
  }

  /** Whether {@code err} was counted and logged already. */
  public static boolean alreadyReported(Throwable err) {
    return err instanceof MirrorFailure failure && failure.reported;
  }

  /** The reason of any failure: a mirror failure's own, else a local one. */
  public static Reason reasonOf(Throwable err) {
    return err instanceof MirrorFailure failure ? failure.reason : Reason.LOCAL_IO;
  }
}
