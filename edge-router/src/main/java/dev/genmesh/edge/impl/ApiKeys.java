package dev.genmesh.edge.impl;

import dev.genmesh.config.EdgeConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Who is calling: the user whose API key ({@code Authorization: Bearer KEY}) hashes to one
 * configured for them. Only hashes are configured, and they are compared as digests, so
 * neither the keys nor their timing leak.
 */
public final class ApiKeys {
  public static final String ANONYMOUS = "anonymous";

  /** The outcome: a user id, or why the caller is refused. */
  public record Caller(String user, String refusal) {
    public boolean refused() {
      return refusal != null;
    }
  }

  private final boolean required;
  private final Map<String, String> userByHash = new HashMap<>();

  public ApiKeys(EdgeConfig edge) {
    this.required = edge.requireApiKey();
    edge.apiKeySha256().forEach((user, hash) -> userByHash.put(hash, user));
  }

  public Caller identify(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return required ? new Caller(null, "an API key is required (Authorization: Bearer KEY)") : new Caller(ANONYMOUS, null);
    }
    String prefix = "Bearer ";
    if (!authorization.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return new Caller(null, "the Authorization header must be 'Bearer KEY'");
    }
    String hash = sha256(authorization.substring(prefix.length()).trim());
    return Optional.ofNullable(userByHash.get(hash))
        .map(user -> new Caller(user, null))
        .orElseGet(() -> new Caller(null, "the API key is not valid"));
  }

  static String sha256(String key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
