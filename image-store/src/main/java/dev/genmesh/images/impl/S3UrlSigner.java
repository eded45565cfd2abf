package dev.genmesh.images.impl;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * Presigned GET URLs for a bucket at a configured endpoint: AWS Signature Version 4 in the query
 * string, for {@code s3}, with an unsigned payload and {@code host} the only signed header. The
 * region node presigns each image of every safety check on its event loop; the SDK's own signer
 * (and before it {@code S3Presigner}, which runs its whole request pipeline per URL) was the
 * largest single share of that loop in the queue benchmark (docs/benchmarks.md). This one builds
 * the canonical request as a string, reuses the day's signing key, and hashes once per URL.
 *
 * <p>The URL is the request the SDK signs for a named general-purpose bucket at an endpoint
 * override: {@code GET} of {@code <endpoint>/<bucket>/<key>} (path style) or
 * {@code <scheme>://<bucket>.<host>/<key>}, the key URL-encoded but its slashes kept, no double
 * encoding, no path normalisation. {@code S3UrlSignerTest} checks that the SDK's
 * {@code AwsV4HttpSigner} signs the same parameters at the same instant; S3ImageStoreTest that the
 * store (S3Proxy) serves what it signs and refuses it tampered or expired.
 */
final class S3UrlSigner {
  private static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final String SERVICE = "s3";
  private static final Duration MAX_TTL = Duration.ofDays(7);
  private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();
  private static final ThreadLocal<Mac> HMAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no HmacSHA256 in this JDK", e);
    }
  });
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no SHA-256 in this JDK", e);
    }
  });

  private final AwsCredentialsProvider credentials;
  private final String region;
  private final Clock clock;
  /** Scheme, host (and port when not the scheme's own) and the path up to the key, without the key. */
  private final String prefix;
  /** The canonical URI of the path up to the key (the prefix's path part). */
  private final String pathPrefix;
  private final String host;
  /** The signing key of one day, secret and region: derived again when any of them changes. */
  private volatile SigningKey key;
  /** The last second's X-Amz-Date (formatting one costs more than the URL's hashing). */
  private volatile Stamp stamp = new Stamp(Long.MIN_VALUE, "");
  /** Per thread, a Mac initialised with the current signing key (doFinal leaves it so); set up again when the key changes. */
  private final ThreadLocal<KeyedMac> signingMac = new ThreadLocal<>();

  private record SigningKey(String secret, String date, byte[] bytes) {}

  private record Stamp(long epochSecond, String amzDate) {}

  private record KeyedMac(byte[] key, Mac mac) {}

  /** @param endpoint scheme, host, port and any path, without a trailing slash */
  S3UrlSigner(AwsCredentialsProvider credentials, String region, URI endpoint, boolean pathStyle, String bucket) {
    this(credentials, region, endpoint, pathStyle, bucket, Clock.systemUTC());
  }

  S3UrlSigner(AwsCredentialsProvider credentials, String region, URI endpoint, boolean pathStyle, String bucket, Clock clock) {
    this.credentials = credentials;
    this.region = region;
    this.clock = clock;
    String scheme = endpoint.getScheme();
    int port = endpoint.getPort();
    boolean standardPort = port < 0 || ("http".equals(scheme) && port == 80) || ("https".equals(scheme) && port == 443);
    String hostName = pathStyle ? endpoint.getHost() : bucket + "." + endpoint.getHost();
    this.host = standardPort ? hostName : hostName + ":" + port;
    String path = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
    this.pathPrefix = pathStyle ? path + "/" + encode(bucket, false) + "/" : path + "/";
    this.prefix = scheme + "://" + host + pathPrefix;
  }

  String presignGet(String objectKey, Duration ttl) {
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("a presigned URL lives more than 0 s and at most 7 days, not " + ttl);
    }
    AwsCredentials identity = credentials.resolveCredentials();
    String amzDate = amzDate(clock.instant());
    String date = amzDate.substring(0, 8);
    String scope = date + "/" + region + "/" + SERVICE + "/aws4_request";
    String encodedKey = encode(objectKey, true);

    // Query parameters in code-point order of their names, as the canonical request wants them.
    StringBuilder query = new StringBuilder(256)
        .append("X-Amz-Algorithm=").append(ALGORITHM)
        .append("&X-Amz-Credential=").append(encode(identity.accessKeyId() + "/" + scope, false))
        .append("&X-Amz-Date=").append(amzDate)
        .append("&X-Amz-Expires=").append(ttl.getSeconds());
    if (identity instanceof AwsSessionCredentials session) {
      query.append("&X-Amz-Security-Token=").append(encode(session.sessionToken(), false));
    }
    query.append("&X-Amz-SignedHeaders=host");

    String canonicalRequest = "GET\n" + pathPrefix + encodedKey + "\n" + query + "\nhost:" + host + "\n\nhost\nUNSIGNED-PAYLOAD";
    String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + scope + "\n"
        + HEX.formatHex(SHA256.get().digest(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
    String signature = HEX.formatHex(sign(signingKey(identity.secretAccessKey(), date), stringToSign));
    return prefix + encodedKey + "?" + query + "&X-Amz-Signature=" + signature;
  }

  private String amzDate(Instant now) {
    Stamp last = stamp;
    if (last.epochSecond() == now.getEpochSecond()) {
      return last.amzDate();
    }
    String formatted = AMZ_DATE.format(now);
    stamp = new Stamp(now.getEpochSecond(), formatted);
    return formatted;
  }

  /** HMAC-SHA256 of {@code data} with the signing key, on this thread's Mac already set up with it. */
  private byte[] sign(byte[] signingKey, String data) {
    KeyedMac keyed = signingMac.get();
    if (keyed == null || keyed.key() != signingKey) {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(signingKey, "HmacSHA256"));
        keyed = new KeyedMac(signingKey, mac);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 refused the signing key", e);
      }
      signingMac.set(keyed);
    }
    return keyed.mac().doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  private byte[] signingKey(String secret, String date) {
    SigningKey current = key;
    if (current != null && current.date.equals(date) && current.secret.equals(secret)) {
      return current.bytes;
    }
    byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, SERVICE);
    k = hmac(k, "aws4_request");
    key = new SigningKey(secret, date, k);
    return k;
  }

  private static byte[] hmac(byte[] key, String data) {
    Mac mac = HMAC.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 refused a key", e);
    }
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  /** RFC 3986 percent-encoding of UTF-8 bytes: unreserved characters stay, and slashes when {@code keepSlashes}. */
  static String encode(String value, boolean keepSlashes) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = null;
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xff;
      boolean keep = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
          || b == '-' || b == '_' || b == '.' || b == '~' || (keepSlashes && b == '/');
      if (keep) {
        if (out != null) {
          out.append((char) b);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(bytes.length + 16);
        for (int j = 0; j < i; j++) {
          out.append((char) bytes[j]);
        }
      }
      out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
          .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
    }
    return out == null ? value : out.toString();
  }
}
