package dev.genmesh.config;

/** A configuration that cannot be used; the message names the offending key. */
public class ConfigException extends RuntimeException {
  private final String key;

  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
    this.key = key;
  }

  /** The dotted path of the offending key, e.g. {@code regions.us-west.http_port}. */
  public String key() {
    return key;
  }
}
