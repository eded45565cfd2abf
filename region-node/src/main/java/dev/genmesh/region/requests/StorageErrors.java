package dev.genmesh.region.requests;

import io.vertx.pgclient.PgException;

/** Tells "the store is down or unreachable" (503, retry later) from a bug (500). */
public final class StorageErrors {
  private StorageErrors() {}

  /**
   * True unless Postgres itself answered with an error outside the connection (08),
   * resources (53), operator intervention (57) and system (58) classes.
   */
  public static boolean isUnavailable(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (cause instanceof PgException pg) {
        String state = pg.getSqlState() == null ? "" : pg.getSqlState();
        return state.startsWith("08") || state.startsWith("53") || state.startsWith("57") || state.startsWith("58");
      }
    }
    return true;
  }
}
