package dev.genmesh.images.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Random;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * genmesh's SigV4 presigner against the SDK's own signer, at one instant: the same URL (path and
 * every query parameter, signature included) for path-style and virtual-hosted buckets, ports,
 * endpoint paths, session credentials and keys with any characters. That the store serves such a
 * URL (and refuses it tampered or expired) is S3ImageStoreTest's, against S3Proxy.
 */
class S3UrlSignerTest {
  private static final Instant AT = Instant.parse("2026-12-07T22:59:58Z");
  private static final Clock CLOCK = Clock.fixed(AT, ZoneOffset.UTC);
  private static final AwsCredentialsProvider BASIC =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));

  @Test
  void signsWhatTheSdkSignsPathStyleWithAPort() {
    assertSame(BASIC, "us-east-1", "http://127.0.0.1:9000", true, "genmesh-us-west", "images/01abc/1/0.png", Duration.ofMinutes(5));
  }

  @Test
  void signsWhatTheSdkSignsVirtualHostedOnTheSchemesOwnPortAndUnderAPath() {
    assertSame(BASIC, "eu-west-1", "https://s3.example.com", false, "genmesh-eu", "a/b c/ü+%.png", Duration.ofSeconds(1));
    assertSame(BASIC, "eu-west-1", "https://s3.example.com:443", true, "genmesh-eu", "k", Duration.ofDays(7));
    assertSame(BASIC, "auto", "http://minio.local:80/storage", true, "bucket.with.dots", "x//y/", Duration.ofHours(1));
  }

  @Test
  void signsSessionCredentialsWithTheirToken() {
    AwsCredentialsProvider session = StaticCredentialsProvider.create(
        AwsSessionCredentials.create("ASIAEXAMPLE", "secret/with+chars=", "token/with+and=and space"));
    assertSame(session, "us-west-2", "http://127.0.0.1:41000", true, "b", "images/x/2/1.png", Duration.ofMinutes(15));
  }

  @Test
  void signsWhatTheSdkSignsForAnyKey() {
    Random random = new Random(12);
    String alphabet = "abcXYZ019-_.~/ !\"#$%&'()*+,:;<=>?@[]^`{|}äß€\u00a0\t";
    for (int i = 0; i < 300; i++) {
      StringBuilder key = new StringBuilder();
      for (int n = 1 + random.nextInt(40); n > 0; n--) {
        key.append(random.nextInt(10) == 0 ? (char) (0x4e00 + random.nextInt(500)) : alphabet.charAt(random.nextInt(alphabet.length())));
      }
      assertSame(BASIC, "us-east-1", "http://127.0.0.1:9000", true, "genmesh-us-west", key.toString(), Duration.ofMinutes(5));
    }
  }

  @Test
  void aSecondUrlTheSameDayReusesNothingButTheKeyAndStillMatches() {
    S3UrlSigner ours = new S3UrlSigner(BASIC, "us-east-1", URI.create("http://127.0.0.1:9000"), true, "b", CLOCK);
    String first = ours.presignGet("one", Duration.ofMinutes(5));
    String second = ours.presignGet("two", Duration.ofMinutes(5));
    assertThat(params(first).get("X-Amz-Signature")).isNotEqualTo(params(second).get("X-Amz-Signature"));
    assertThat(params(second)).isEqualTo(params(sdk(BASIC, "us-east-1", "http://127.0.0.1:9000", true, "b", "two", Duration.ofMinutes(5))));
  }

  @Test
  void refusesALifetimeS3WouldRefuse() {
    S3UrlSigner ours = new S3UrlSigner(BASIC, "us-east-1", URI.create("http://127.0.0.1:9000"), true, "b", CLOCK);
    assertThatThrownBy(() -> ours.presignGet("k", Duration.ofDays(8))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ours.presignGet("k", Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void encodesAsRfc3986() {
    assertThat(S3UrlSigner.encode("a-Z_0.~/b", true)).isEqualTo("a-Z_0.~/b");
    assertThat(S3UrlSigner.encode("a/b", false)).isEqualTo("a%2Fb");
    assertThat(S3UrlSigner.encode("ü +*", true)).isEqualTo("%C3%BC%20%2B%2A");
  }

  private static void assertSame(AwsCredentialsProvider credentials, String region, String endpoint, boolean pathStyle,
      String bucket, String key, Duration ttl) {
    String ours = new S3UrlSigner(credentials, region, URI.create(endpoint), pathStyle, bucket, CLOCK).presignGet(key, ttl);
    String theirs = sdk(credentials, region, endpoint, pathStyle, bucket, key, ttl);
    assertThat(URI.create(ours).getRawPath()).as("path of %s", key).isEqualTo(URI.create(theirs).getRawPath());
    assertThat(URI.create(ours).getRawAuthority()).isEqualTo(URI.create(theirs).getRawAuthority());
    assertThat(params(ours)).as("query of %s", key).isEqualTo(params(theirs));
  }

  /** What the SDK's SigV4 signer makes of the same request at the same instant (genmesh's presigner before this one). */
  private static String sdk(AwsCredentialsProvider credentials, String region, String endpoint, boolean pathStyle,
      String bucket, String key, Duration ttl) {
    URI uri = URI.create(endpoint);
    String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String prefix = pathStyle
        ? uri.getScheme() + "://" + uri.getHost() + port + path + "/" + SdkHttpUtils.urlEncode(bucket) + "/"
        : uri.getScheme() + "://" + bucket + "." + uri.getHost() + port + path + "/";
    SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.GET)
        .uri(URI.create(prefix + SdkHttpUtils.urlEncodeIgnoreSlashes(key))).build();
    return AwsV4HttpSigner.create().sign(r -> r.identity(credentials.resolveCredentials()).request(request)
            .putProperty(HttpSigner.SIGNING_CLOCK, CLOCK)
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
            .putProperty(AwsV4HttpSigner.REGION_NAME, region)
            .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, ttl)
            .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
            .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
            .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false))
        .request().getUri().toString();
  }

  private static Map<String, String> params(String url) {
    Map<String, String> out = new TreeMap<>();
    for (String pair : List.of(URI.create(url).getRawQuery().split("&"))) {
      int eq = pair.indexOf('=');
      out.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return out;
  }
}
