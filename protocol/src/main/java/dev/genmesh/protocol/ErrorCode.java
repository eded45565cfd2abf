package dev.genmesh.protocol;

import java.util.Locale;

/** Error codes of the public and regional APIs, each with the HTTP status it maps to. */
public enum ErrorCode {
  INVALID_JSON(400),
  BODY_TOO_LARGE(413),
  MISSING_FIELD(400),
  INVALID_FIELD(400),
  PROMPT_TOO_LONG(400),
  UNKNOWN_MODEL(400),
  UNKNOWN_TIER(400),
  UNSUPPORTED_SIZE(400),
  OUT_OF_RANGE(400),
  /** A value no store can hold: a NUL character, an unpaired surrogate, a value PostgreSQL refused (SQLSTATE class 22). */
  INVALID_VALUE(400),
  /** The HTTP request itself is malformed (request line, headers). */
  INVALID_REQUEST(400),
  /** The request's headers, or its body, did not arrive in time. */
  REQUEST_TIMEOUT(408),
  URI_TOO_LONG(414),
  /** An {@code Idempotency-Key} already used for a different request (another body or caller). */
  IDEMPOTENCY_KEY_REUSED(422),
  /** The caller already holds as many event streams as one client may. */
  TOO_MANY_STREAMS(429),
  /** The caller submitted faster than its tier's rate (users.rate_limits); retry after Retry-After. */
  RATE_LIMITED(429),
  /** The caller used its GPU-seconds of the month for fast and turbo (users.gpu_quota); relax still works. */
  GPU_QUOTA_EXCEEDED(429),
  HEADERS_TOO_LARGE(431),
  UNAUTHORIZED(401),
  /** The caller is known but may not do this (an admin call without an admin key, a tier the key does not allow). */
  FORBIDDEN(403),
  /** A user or key that exists already (admin API). */
  CONFLICT(409),
  NOT_FOUND(404),
  NOT_READY(409),
  /** The request already ended (completed, failed or cancelled): nothing to cancel. */
  ALREADY_TERMINAL(409),
  /** A {@code Range} no byte of the image falls in. */
  RANGE_NOT_SATISFIABLE(416),
  REGION_UNAVAILABLE(503),
  /** The user database cannot answer now (a key cannot be checked, an account not written). */
  USERS_UNAVAILABLE(503),
  STORAGE_UNAVAILABLE(503),
  /** The region sheds this tier while its global circuit breaker is open; retry after Retry-After. */
  OVERLOADED(503),
  /**
   * Sync replication with {@code replication.on_peer_loss: refuse}: the peer region cannot hold the
   * commit now, so the region takes no new request; retry after Retry-After (the edge tries another region).
   */
  REPLICATION_UNAVAILABLE(503),
  /**
   * The request was adopted by its peer region while its own region was down; the peer answers for
   * it (a 307 to the adopter's regional API, whose region is named in the body).
   */
  ADOPTED(307),
  /**
   * The region does not hold this model version yet: it is pulling it from the primary registry,
   * or the primary does not answer, or its copy failed its checksum; retry after Retry-After.
   */
  MODEL_NOT_CACHED(503),
  INTERNAL(500);

  private final int httpStatus;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
