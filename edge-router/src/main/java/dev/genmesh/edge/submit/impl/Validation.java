package dev.genmesh.edge.submit.impl;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.GenerationSpec;
import java.util.Objects;

/**
 * The outcome of validating one submit: either a spec to forward (with the client's
 * idempotency key, possibly null, and with a key the hash of the caller and body it came with,
 * {@code RequestHash}) or the error to answer.
 */
public record Validation(GenerationSpec spec, String idempotencyKey, String requestHash, ApiError error) {

  public static Validation accepted(GenerationSpec spec, String idempotencyKey) {
    return accepted(spec, idempotencyKey, null);
  }

  public static Validation accepted(GenerationSpec spec, String idempotencyKey, String requestHash) {
    return new Validation(Objects.requireNonNull(spec), idempotencyKey, requestHash, null);
  }

  public static Validation rejected(ApiError error) {
    return new Validation(null, null, null, Objects.requireNonNull(error));
  }

  public boolean isValid() {
    return error == null;
  }
}
