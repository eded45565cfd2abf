package dev.genmesh.edge.submit.impl;

import dev.genmesh.protocol.ApiError;
import dev.genmesh.protocol.GenerationSpec;
import java.util.Objects;

/**
 * The outcome of validating one submit: either a spec to forward (with the client's
 * idempotency key, possibly null) or the error to answer.
 */
public record Validation(GenerationSpec spec, String idempotencyKey, ApiError error) {

  public static Validation accepted(GenerationSpec spec, String idempotencyKey) {
    return new Validation(Objects.requireNonNull(spec), idempotencyKey, null);
  }

  public static Validation rejected(ApiError error) {
    return new Validation(null, null, Objects.requireNonNull(error));
  }

  public boolean isValid() {
    return error == null;
  }
}
