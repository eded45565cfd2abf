package dev.genmesh.images.impl;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * Presigned GET URLs for a bucket at a configured endpoint, signed by the SDK's SigV4 signer
 * directly. The SDK's {@code S3Presigner} runs its whole request pipeline per URL (marshalling,
 * endpoint rules, auth-scheme resolution, interceptors): in the queue benchmark that was the largest
 * share of the region node's event loop, one presign per safety check (docs/benchmarks.md, "Node
 * CPU, commits and the submit's own latency"). The URL is the same request S3Presigner signs for a
 * named general-purpose bucket at an endpoint override: {@code GET} of {@code <endpoint>/<bucket>/<key>}
 * (path style) or {@code <scheme>://<bucket>.<host>/<key>}, the key URL-encoded but its slashes kept,
 * signed for {@code s3} in the query string with an unsigned payload. The store checks the
 * signature, so a URL it serves is a URL it signed (S3ImageStoreTest, against S3Proxy).
 */
final class S3UrlSigner {
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final AwsCredentialsProvider credentials;
  private final String region;
  private final String prefix;

  /** @param endpoint scheme, host, port and any path, without a trailing slash */
  S3UrlSigner(AwsCredentialsProvider credentials, String region, URI endpoint, boolean pathStyle, String bucket) {
    this.credentials = credentials;
    this.region = region;
    String port = endpoint.getPort() < 0 ? "" : ":" + endpoint.getPort();
    String path = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
    this.prefix = pathStyle
        ? endpoint.getScheme() + "://" + endpoint.getHost() + port + path + "/" + SdkHttpUtils.urlEncode(bucket) + "/"
        : endpoint.getScheme() + "://" + bucket + "." + endpoint.getHost() + port + path + "/";
  }

  String presignGet(String key, Duration ttl) {
    SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.GET)
        .uri(URI.create(prefix + SdkHttpUtils.urlEncodeIgnoreSlashes(key))).build();
    return signer.sign(r -> r.identity(credentials.resolveCredentials()).request(request)
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
            .putProperty(AwsV4HttpSigner.REGION_NAME, region)
            .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, ttl)
            .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
            .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
            .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false))
        .request().getUri().toString();
  }
}
