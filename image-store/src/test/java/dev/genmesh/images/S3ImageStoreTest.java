package dev.genmesh.images;

import static dev.genmesh.testkit.Waits.await;
import static dev.genmesh.testkit.Waits.failure;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.embedded.EmbeddedStores;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The S3 image store against the embedded S3-compatible server (S3Proxy), not a mock. */
@ExtendWith(StoresExtension.class)
class S3ImageStoreTest {
  private Vertx vertx;
  private TestStores stores;
  private String bucket;
  private ImageStore images;

  @BeforeEach
  void open(TestStores stores) {
    this.stores = stores;
    vertx = Vertx.vertx();
    bucket = stores.createBucket();
    images = ImageStores.s3(vertx, ConfigLoader.load(null, stores.imagesEnv(bucket)).images().forRegion("us-west"));
  }

  @AfterEach
  void close() {
    await(images.close());
    await(vertx.close());
  }

  @Test
  void putHeadGetRangeListAndDelete() {
    byte[] png = randomBytes(70_000);
    String key = ImageKeys.of("usw_abc", 2, 0);

    ObjectInfo put = await(images.put(key, Buffer.buffer(png), ImageStores.PNG, ImageStores.IMMUTABLE));
    assertThat(put.size()).isEqualTo(png.length);
    assertThat(put.etag()).isNotBlank();

    Optional<ObjectInfo> head = await(images.head(key));
    assertThat(head).get().extracting(ObjectInfo::size, ObjectInfo::etag).containsExactly((long) png.length, put.etag());
    assertThat(await(images.get(key)).getBytes()).isEqualTo(png);
    assertThat(await(images.get(key, 100, 199)).getBytes()).isEqualTo(java.util.Arrays.copyOfRange(png, 100, 200));

    await(images.put(ImageKeys.of("usw_abc", 1, 0), Buffer.buffer(png), ImageStores.PNG, null));
    await(images.put(ImageKeys.of("usw_abcd", 1, 0), Buffer.buffer(png), ImageStores.PNG, null));
    assertThat(await(images.list(ImageKeys.requestPrefix("usw_abc")))).extracting(ObjectInfo::key)
        .containsExactly("usw_abc/1/0.png", "usw_abc/2/0.png");

    await(images.delete(key));
    assertThat(await(images.head(key))).isEmpty();
    assertThat(failure(images.get(key))).isInstanceOf(NoSuchObjectException.class);
    await(images.delete(key)); // deleting what is gone is fine
    await(images.delete(List.of("usw_abc/1/0.png", "usw_abcd/1/0.png", "usw_never/1/0.png")));
    assertThat(await(images.list("usw_"))).isEmpty();
  }

  @Test
  void listsPastOnePage() {
    List<Future<ObjectInfo>> puts = new ArrayList<>();
    for (int i = 0; i < 1010; i++) {
      puts.add(images.put("usw_many/1/" + i + ".png", Buffer.buffer(new byte[] {1}), ImageStores.PNG, null));
    }
    await(60, Future.all(puts));
    assertThat(await(images.list("usw_many/"))).hasSize(1010);
    await(images.delete(await(images.list("usw_many/")).stream().map(ObjectInfo::key).toList()));
    assertThat(await(images.list("usw_many/"))).isEmpty();
  }

  @Test
  void aPresignedUrlServesTheImageWithItsHeadersToAnyoneUntilItExpires() throws Exception {
    byte[] png = randomBytes(5_000);
    String key = ImageKeys.of("usw_pre", 1, 0);
    await(images.put(key, Buffer.buffer(png), ImageStores.PNG, ImageStores.IMMUTABLE));

    HttpResponse<byte[]> got = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(images.presignGet(key, Duration.ofMinutes(1)))).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).isEqualTo(png);
    assertThat(got.headers().firstValue("Content-Type")).hasValue(ImageStores.PNG);
    assertThat(got.headers().firstValue("Cache-Control")).hasValue(ImageStores.IMMUTABLE);

    String expired = images.presignGet(key, Duration.ofSeconds(1));
    Thread.sleep(2_100);
    assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(expired)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(403);
  }

  /**
   * The URLs are signed by the SigV4 signer without the presigner's pipeline: the store must accept
   * them for keys that need encoding too, and refuse one whose signature or key was changed.
   */
  @Test
  void presignedUrlsOfKeysThatNeedEncodingAreServedAndAlteredOnesRefused() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (String key : List.of("usw_enc/1/a b+c.png", "usw_enc/1/ünï=cödé&x.png", "usw_enc/2/0.png")) {
      byte[] bytes = randomBytes(1_000);
      await(images.put(key, Buffer.buffer(bytes), ImageStores.PNG, null));
      String url = images.presignGet(key, Duration.ofMinutes(1));
      HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(got.statusCode()).as(key).isEqualTo(200);
      assertThat(got.body()).isEqualTo(bytes);
    }
    String url = images.presignGet("usw_enc/2/0.png", Duration.ofMinutes(1));
    int at = url.indexOf("X-Amz-Signature=") + "X-Amz-Signature=".length();
    String wrongSignature = url.substring(0, at) + (url.charAt(at) == '0' ? '1' : '0') + url.substring(at + 1);
    String otherKey = url.replace("/2/0.png", "/1/a%20b%2Bc.png");
    for (String altered : List.of(wrongSignature, otherKey)) {
      assertThat(http.send(HttpRequest.newBuilder(URI.create(altered)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode()).as(altered).isEqualTo(403);
    }
  }

  @Test
  void answersOnTheCallersContext() {
    Context context = vertx.getOrCreateContext();
    Promise<Boolean> same = Promise.promise();
    context.runOnContext(v -> images.put("usw_ctx/1/0.png", Buffer.buffer("x"), ImageStores.PNG, null)
        .onComplete(ar -> same.complete(ar.succeeded() && Vertx.currentContext() == context)));
    assertThat(await(same.future())).isTrue();
  }

  @Test
  void keysFromTheEmbeddedStoresFileWorkAndWrongKeysAreRefused() {
    ImagesConfig byFile = ImagesConfig.defaults().withStore(stores.objectStore().endpoint(),
        stores.objectStore().credentialsFile().toString());
    ImagesConfig.Bucket ours = byFile.forRegion("us-west");
    ImageStore fromFile = ImageStores.s3(vertx, new ImagesConfig.Bucket("us-west", ours.endpoint(), ours.signingRegion(),
        true, bucket, ours.credentialsFile(), null, 5_000));
    await(fromFile.put("usw_file/1/0.png", Buffer.buffer("x"), ImageStores.PNG, null));
    await(fromFile.close());

    ImageStore wrong = ImageStores.s3(vertx, new ImagesConfig.Bucket("us-west", ours.endpoint(), "us-east-1", true, bucket,
        "", new ImagesConfig.Keys(stores.objectStore().credentials().accessKey(), "wrong"), 5_000));
    assertThat(failure(wrong.get("usw_file/1/0.png"))).isNotInstanceOf(NoSuchObjectException.class);
    await(wrong.close());
  }

  @Test
  void aStoreThatDoesNotAnswerFailsTheCallInsteadOfHanging() {
    ImageStore nowhere = ImageStores.s3(vertx, new ImagesConfig.Bucket("us-west",
        "http://127.0.0.1:" + EmbeddedStores.freePort(), "us-east-1", true, bucket, "", new ImagesConfig.Keys("a", "b"), 500));
    assertThat(failure(nowhere.put("usw_x/1/0.png", Buffer.buffer("x"), ImageStores.PNG, null))).isNotNull();
    await(nowhere.close());
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }
}
