package dev.genmesh.users;

/** A key just issued: {@code secret} is the whole key, shown to its owner once and never stored. */
public record IssuedKey(ApiKey key, String secret) {
  @Override
  public String toString() {
    return "IssuedKey[" + key.id() + "]"; // never the secret, in logs or elsewhere
  }
}
