package dev.genmesh.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** The embedded S3-compatible store as an S3 client sees it, across a restart. */
class EmbeddedObjectStoreTest {
  private static final String BUCKET = "genmesh-us-west";

  @TempDir Path dir;

  @Test
  void objectsAndKeysSurviveARestartAndOnlySignedRequestsAreServed() throws Exception {
    byte[] png = "not really a png, but bytes".getBytes(StandardCharsets.UTF_8);
    EmbeddedObjectStore.Credentials first;
    try (EmbeddedObjectStore store = EmbeddedObjectStore.start(dir, List.of(BUCKET, "genmesh-us-east"))) {
      first = store.credentials();
      try (S3Client s3 = client(store, first.secretKey())) {
        s3.putObject(b -> b.bucket(BUCKET).key("usw_1/1/0.png").contentType("image/png"), RequestBody.fromBytes(png));
        assertThat(s3.listBuckets().buckets()).extracting(b -> b.name()).contains(BUCKET, "genmesh-us-east");
      }
      assertThat(status(store.endpoint() + "/" + BUCKET + "/usw_1/1/0.png")).as("an unsigned GET").isEqualTo(403);
      try (S3Client wrong = client(store, "not-the-secret")) {
        assertThatThrownBy(() -> wrong.getObjectAsBytes(b -> b.bucket(BUCKET).key("usw_1/1/0.png")))
            .isInstanceOf(S3Exception.class);
      }
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(EmbeddedObjectStore.CREDENTIALS_FILE))))
        .isEqualTo("rw-------");

    try (EmbeddedObjectStore again = EmbeddedObjectStore.start(dir, List.of(BUCKET))) {
      assertThat(again.credentials()).isEqualTo(first);
      try (S3Client s3 = client(again, first.secretKey())) {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("usw_1/1/0.png")).asByteArray()).isEqualTo(png);
      }
      try (S3Presigner presigner = S3Presigner.builder().endpointOverride(URI.create(again.endpoint()))
          .region(Region.US_EAST_1)
          .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder().pathStyleAccessEnabled(true).build())
          .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(first.accessKey(), first.secretKey())))
          .build()) {
        String url = presigner.presignGetObject(p -> p.signatureDuration(Duration.ofMinutes(1))
            .getObjectRequest(g -> g.bucket(BUCKET).key("usw_1/1/0.png"))).url().toString();
        HttpURLConnection get = (HttpURLConnection) URI.create(url).toURL().openConnection();
        assertThat(get.getResponseCode()).as("a presigned GET").isEqualTo(200);
        try (var in = get.getInputStream()) {
          assertThat(in.readAllBytes()).isEqualTo(png);
        }
      }
    }
  }

  private static S3Client client(EmbeddedObjectStore store, String secret) {
    return S3Client.builder()
        .endpointOverride(URI.create(store.endpoint()))
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        // S3Proxy does not take the SDK's default trailing checksums (aws-chunked with a CRC trailer).
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .httpClient(UrlConnectionHttpClient.create())
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(store.credentials().accessKey(), secret)))
        .build();
  }

  private static int status(String url) throws Exception {
    HttpURLConnection get = (HttpURLConnection) URI.create(url).toURL().openConnection();
    try {
      return get.getResponseCode();
    } finally {
      get.disconnect();
    }
  }
}
