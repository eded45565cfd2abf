package dev.genmesh.images;

/** The object asked for is not in the bucket. */
public final class NoSuchObjectException extends RuntimeException {
  private final String key;

  public NoSuchObjectException(String bucket, String key) {
    super("no object " + key + " in bucket " + bucket);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
