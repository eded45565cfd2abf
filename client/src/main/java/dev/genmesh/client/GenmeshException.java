package dev.genmesh.client;

import java.util.Optional;

/**
 * A call the edge refused or could not answer. {@link #status()} is the HTTP status, {@link #code()}
 * the edge's JSON {@code code} ({@code invalid_field}, {@code unauthorized}, {@code rate_limited},
 * {@code not_found}, ...; edge-router/API.md). No answer at all (refused connection, reset, timeout)
 * is status 0 with code {@link #UNREACHABLE}.
 */
public final class GenmeshException extends RuntimeException {
  /** The code of a call that got no HTTP answer. */
  public static final String UNREACHABLE = "unreachable";

  private final int status;
  private final String code;
  private final String field;
  private final Long retryAfterSeconds;

  public GenmeshException(int status, String code, String message, String field, Long retryAfterSeconds, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static GenmeshException unreachable(String what, Throwable cause) {
    return new GenmeshException(0, UNREACHABLE, what + ": " + cause.getMessage(), null, null, cause);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** The request field (or header) at fault, when the edge named one. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }

  public Optional<Long> retryAfterSeconds() {
    return Optional.ofNullable(retryAfterSeconds);
  }

  /** 401 or 403: the key is missing, unknown, revoked, or may not do this. */
  public boolean isAuth() {
    return status == 401 || status == 403;
  }

  /** Worth another try later: no answer, 429 or 503. */
  public boolean isRetryable() {
    return status == 0 || status == 429 || status == 503;
  }

  @Override
  public String toString() {
    return "GenmeshException[" + status + " " + code + (field == null ? "" : " field=" + field) + "]: " + getMessage();
  }
}
