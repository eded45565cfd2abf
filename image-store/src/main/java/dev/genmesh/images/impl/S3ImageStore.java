package dev.genmesh.images.impl;

import dev.genmesh.config.ImagesConfig;
import dev.genmesh.images.ImageStore;
import dev.genmesh.images.NoSuchObjectException;
import dev.genmesh.images.ObjectInfo;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientAsyncConfiguration;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.client.config.SdkAdvancedAsyncClientOption;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * {@link ImageStore} on the AWS SDK v2 async client over Netty. The SDK completes its futures on
 * its Netty threads; each call hands the outcome back to the caller's Vert.x context. Checksums
 * are sent only where S3 requires them (S3Proxy refuses the SDK's default aws-chunked uploads
 * with a trailing CRC), and path-style addressing follows the config.
 */
public final class S3ImageStore implements ImageStore {
  /** Deletes per DeleteObjects call: S3's limit. */
  static final int DELETE_BATCH = 1000;
  /** I/O threads shared by every store of the JVM ({@code genmesh up} opens several); daemon, never closed. */
  private static final SdkEventLoopGroup EVENT_LOOPS = SdkEventLoopGroup.builder().numberOfThreads(2).build();

  private final Vertx vertx;
  private final String bucket;
  private final S3AsyncClient client;
  private final S3Presigner presigner;
  /** Presigns at a configured endpoint without the presigner's pipeline; null: AWS's own endpoints, the presigner. */
  private final S3UrlSigner urls;

  private S3ImageStore(Vertx vertx, String bucket, S3AsyncClient client, S3Presigner presigner, S3UrlSigner urls) {
    this.vertx = vertx;
    this.bucket = bucket;
    this.client = client;
    this.presigner = presigner;
    this.urls = urls;
  }

  public static S3ImageStore open(Vertx vertx, ImagesConfig.Bucket config) {
    AwsCredentialsProvider credentials = StoreCredentials.provider(config);
    Region region = Region.of(config.signingRegion());
    Duration timeout = Duration.ofMillis(config.callTimeoutMs());
    var builder = S3AsyncClient.builder()
        .region(region)
        .credentialsProvider(credentials)
        .forcePathStyle(config.pathStyle())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()
            .eventLoopGroup(EVENT_LOOPS)
            .maxConcurrency(64)
            .connectionTimeout(timeout))
        // Complete on the Netty thread: the continuation only hops to a Vert.x context.
        .asyncConfiguration(ClientAsyncConfiguration.builder()
            .advancedOption(SdkAdvancedAsyncClientOption.FUTURE_COMPLETION_EXECUTOR, Runnable::run)
            .build())
        .overrideConfiguration(ClientOverrideConfiguration.builder()
            .apiCallAttemptTimeout(timeout)
            .apiCallTimeout(timeout.multipliedBy(3))
            .build());
    // The region node presigns each image of every safety check on its event loop. Buckets are named
    // (not ARNs) and general purpose: settling ARN-region, multi-region and S3 Express here spares
    // each presign their resolution (a third of its CPU, bench/queue).
    var presignerBuilder = S3Presigner.builder()
        .region(region)
        .credentialsProvider(credentials)
        .disableS3ExpressSessionAuth(true)
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(config.pathStyle())
            .useArnRegionEnabled(false).multiRegionEnabled(false).build());
    S3UrlSigner urls = null;
    if (!config.endpoint().isBlank()) {
      URI endpoint = URI.create(config.endpoint().replaceAll("/+$", ""));
      builder.endpointOverride(endpoint);
      presignerBuilder.endpointOverride(endpoint);
      urls = new S3UrlSigner(credentials, config.signingRegion(), endpoint, config.pathStyle(), config.bucket());
    }
    return new S3ImageStore(vertx, config.bucket(), builder.build(), presignerBuilder.build(), urls);
  }

  @Override
  public String bucket() {
    return bucket;
  }

  @Override
  public Future<ObjectInfo> put(String key, Buffer bytes, String contentType, String cacheControl) {
    long size = bytes.length();
    // getBytes() already hands out a fresh array nobody else holds: the SDK may keep it without its own copy.
    return call(client.putObject(b -> b.bucket(bucket).key(key).contentType(contentType).cacheControl(cacheControl)
            .contentLength(size), AsyncRequestBody.fromBytesUnsafe(bytes.getBytes())),
        response -> new ObjectInfo(key, size, unquoted(response.eTag()), null));
  }

  @Override
  public Future<Buffer> get(String key) {
    return call(client.getObject(b -> b.bucket(bucket).key(key), AsyncResponseTransformer.toBytes()),
        bytes -> Buffer.buffer(bytes.asByteArrayUnsafe()), key);
  }

  @Override
  public Future<Buffer> get(String key, long first, long last) {
    if (first < 0 || last < first) {
      return Future.failedFuture(new IllegalArgumentException("not a byte range: " + first + "-" + last));
    }
    return call(client.getObject(b -> b.bucket(bucket).key(key).range("bytes=" + first + "-" + last),
        AsyncResponseTransformer.toBytes()), bytes -> Buffer.buffer(bytes.asByteArrayUnsafe()), key);
  }

  @Override
  public Future<Optional<ObjectInfo>> head(String key) {
    return this.<Optional<ObjectInfo>, software.amazon.awssdk.services.s3.model.HeadObjectResponse>call(
            client.headObject(b -> b.bucket(bucket).key(key)),
            r -> Optional.of(new ObjectInfo(key, r.contentLength(), unquoted(r.eTag()), r.lastModified())), key)
        .recover(err -> err instanceof NoSuchObjectException ? Future.succeededFuture(Optional.empty())
            : Future.failedFuture(err));
  }

  @Override
  public Future<Void> delete(String key) {
    return call(client.deleteObject(b -> b.bucket(bucket).key(key)), r -> null);
  }

  @Override
  public Future<Void> delete(Collection<String> keys) {
    List<String> all = List.copyOf(keys);
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < all.size(); from += DELETE_BATCH) {
      List<ObjectIdentifier> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH)).stream()
          .map(k -> ObjectIdentifier.builder().key(k).build()).toList();
      chain = chain.compose(v -> call(client.deleteObjects(b -> b.bucket(bucket)
          .delete(Delete.builder().objects(batch).quiet(true).build())), response -> {
            if (response.hasErrors() && !response.errors().isEmpty()) {
              throw new IllegalStateException("bucket " + bucket + ": " + response.errors().size()
                  + " object(s) not deleted, first " + response.errors().get(0).key() + ": "
                  + response.errors().get(0).message());
            }
            return null;
          }));
    }
    return chain;
  }

  @Override
  public Future<List<ObjectInfo>> list(String prefix) {
    return listFrom(prefix, null, new ArrayList<>());
  }

  private Future<List<ObjectInfo>> listFrom(String prefix, String continuation, List<ObjectInfo> found) {
    return call(client.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).continuationToken(continuation)),
        Function.<ListObjectsV2Response>identity())
        .compose(page -> {
          // A key ending in "/" is a folder, not an object (jclouds' filesystem backend lists its directories).
          page.contents().stream().filter(o -> !o.key().endsWith("/"))
              .forEach(o -> found.add(new ObjectInfo(o.key(), o.size(), unquoted(o.eTag()), o.lastModified())));
          return Boolean.TRUE.equals(page.isTruncated()) && page.nextContinuationToken() != null
              ? listFrom(prefix, page.nextContinuationToken(), found)
              : Future.succeededFuture(found);
        });
  }

  @Override
  public String presignGet(String key, Duration ttl) {
    if (urls != null) {
      return urls.presignGet(key, ttl);
    }
    return presigner.presignGetObject(p -> p.signatureDuration(ttl).getObjectRequest(g -> g.bucket(bucket).key(key)))
        .url().toString();
  }

  @Override
  public Future<Void> close() {
    presigner.close();
    client.close();
    return Future.succeededFuture();
  }

  private <T, R> Future<T> call(CompletableFuture<R> sdk, Function<R, T> mapping) {
    return call(sdk, mapping, null);
  }

  /** The SDK's future as a Vert.x future on the caller's context; a missing {@code key} fails as {@link NoSuchObjectException}. */
  private <T, R> Future<T> call(CompletableFuture<R> sdk, Function<R, T> mapping, String key) {
    Context context = vertx.getOrCreateContext();
    return Future.fromCompletionStage(sdk, context).transform(ar -> {
      if (ar.succeeded()) {
        try {
          return Future.succeededFuture(mapping.apply(ar.result()));
        } catch (RuntimeException e) {
          return Future.failedFuture(e);
        }
      }
      Throwable cause = ar.cause() instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : ar.cause();
      if (key != null && (cause instanceof NoSuchKeyException
          || cause instanceof S3Exception s3 && s3.statusCode() == 404)) {
        return Future.failedFuture(new NoSuchObjectException(bucket, key));
      }
      return Future.failedFuture(cause);
    });
  }

  private static String unquoted(String etag) {
    return etag == null ? null : etag.replace("\"", "");
  }
}
