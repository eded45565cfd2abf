package dev.genmesh.failover.dns;

import dev.genmesh.config.failover.DnsConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/**
 * The TSIG key that signs RFC 2136 updates: its name, its algorithm and the dnsjava signer. The
 * secret comes from a file (bare base64 or a BIND key file, as {@code tsig-keygen} writes it) or
 * from an environment variable, never from the config file; {@code toString} hides it.
 */
public record TsigKey(Name name, Name algorithm, TSIG tsig) {
  private static final Pattern BIND_SECRET = Pattern.compile("secret\\s+\"([^\"]+)\"");

  /** The key {@code config} names: {@code secret_file} when set, else the variable {@code secret_env} of {@code env}. */
  public static TsigKey load(DnsConfig.Tsig config, Map<String, String> env) {
    String secret;
    if (!config.secretFile().isEmpty()) {
      try {
        secret = secretOf(Files.readString(Path.of(config.secretFile()), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new IllegalStateException("failover.dns.tsig.secret_file: cannot read " + config.secretFile() + ": " + e, e);
      }
    } else {
      secret = env.getOrDefault(config.secretEnv(), "").trim();
      if (secret.isEmpty()) {
        throw new IllegalStateException("failover.dns.tsig: no secret: set secret_file, or the environment variable "
            + config.secretEnv());
      }
    }
    return of(config.keyName(), config.algorithm(), secret);
  }

  /** A key from its parts; the secret is base64. */
  public static TsigKey of(String keyName, String algorithm, String base64Secret) {
    try {
      Base64.getDecoder().decode(base64Secret);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("failover.dns.tsig: the secret of key " + keyName + " is not base64");
    }
    Name name = Name.fromConstantString(keyName.endsWith(".") ? keyName : keyName + ".");
    Name algorithmName = TSIG.algorithmToName(algorithm);
    return new TsigKey(name, algorithmName, new TSIG(algorithmName, name, base64Secret));
  }

  /**
   * A new random key written to {@code file} as a BIND key file readable by its owner only (what
   * {@code genmesh up} does at each start); returns it.
   */
  public static TsigKey generate(Path file, String keyName, String algorithm) {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    String base64 = Base64.getEncoder().encodeToString(secret);
    String text = "key \"" + keyName + "\" {\n\talgorithm " + algorithm + ";\n\tsecret \"" + base64 + "\";\n};\n";
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.deleteIfExists(file);
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the TSIG key to " + file, e);
    }
    return of(keyName, algorithm, base64);
  }

  static String secretOf(String fileText) {
    Matcher bind = BIND_SECRET.matcher(fileText);
    return bind.find() ? bind.group(1).trim() : fileText.trim();
  }

  @Override
  public String toString() {
    return "TsigKey[name=" + name + ", algorithm=" + algorithm + ", secret=***]";
  }
}
