package dev.genmesh.region.images;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.images.ImageKeys;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Result;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Images in the region's object store as the region node sees them (docs/architecture.md,
 * "Images"): served by any node of the region from the keys in the log, with ranges and links;
 * results must name their attempt's own keys; the sweeper removes what no completed request published.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class ImageObjectsTest {
  private static final String MODEL = "genmesh-tiny";
  private static TestStores stores;

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }

  private static JsonObject spec() {
    return new GenerationSpec("a red fox in the snow", "", MODEL, Tier.FAST, 512, 512, 3, 42, 7.5, 1).toJson();
  }

  private static String submit(NodeUnderTest node) {
    HttpResponse<Buffer> response = await(node.submit(spec()));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  private static TestWorker worker(Vertx vertx) {
    return new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of(MODEL));
  }

  @Test
  void everyNodeOfTheRegionServesTheSameImageWithRangesHeadAndALink(Vertx vertx) throws Exception {
    GenmeshConfig config = TestRegion.config(stores, stores.createDatabase(), TestStores.newKeyPrefix());
    NodeUnderTest a = await(NodeUnderTest.deploy(vertx, config));
    NodeUnderTest b = await(NodeUnderTest.deploy(vertx, config));
    TestWorker worker = worker(vertx);
    String id = submit(a);
    Assignment run = await(worker.claim());
    byte[] png = TestWorker.png(7);
    assertThat(await(worker.result(id, run.attempt(), List.of(png))).getString("status")).isEqualTo("completed");
    String path = "/regional/v1/images/" + id + "/0.png";
    String etag = "\"" + Sha256.of(png) + "\"";

    for (NodeUnderTest node : List.of(a, b)) {
      HttpResponse<Buffer> whole = await(node.get(path));
      assertThat(whole.statusCode()).isEqualTo(200);
      assertThat(whole.body().getBytes()).isEqualTo(png);
      assertThat(whole.getHeader("ETag")).isEqualTo(etag);
      assertThat(whole.getHeader("Accept-Ranges")).isEqualTo("bytes");
      assertThat(await(node.get(path, "If-None-Match", "W/" + etag)).statusCode()).isEqualTo(304);
    }

    HttpResponse<Buffer> middle = await(b.get(path, "Range", "bytes=10-19"));
    assertThat(middle.statusCode()).isEqualTo(206);
    assertThat(middle.getHeader("Content-Range")).isEqualTo("bytes 10-19/" + png.length);
    assertThat(middle.body().getBytes()).isEqualTo(Arrays.copyOfRange(png, 10, 20));
    HttpResponse<Buffer> tail = await(b.get(path, "Range", "bytes=-5"));
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.body().getBytes()).isEqualTo(Arrays.copyOfRange(png, png.length - 5, png.length));
    HttpResponse<Buffer> beyond = await(b.get(path, "Range", "bytes=" + png.length + "-"));
    assertThat(beyond.statusCode()).isEqualTo(416);
    assertThat(beyond.getHeader("Content-Range")).isEqualTo("bytes */" + png.length);
    HttpResponse<Buffer> changed = await(WebClient.create(vertx).get(b.port(), "127.0.0.1", path)
        .putHeader("Range", "bytes=0-9").putHeader("If-Range", "\"another\"").send());
    assertThat(changed.statusCode()).as("If-Range of another version: the whole image").isEqualTo(200);
    assertThat(changed.body().getBytes()).isEqualTo(png);
    HttpResponse<Buffer> head = await(WebClient.create(vertx).head(a.port(), "127.0.0.1", path).send());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.getHeader("Content-Length")).isEqualTo(Integer.toString(png.length));

    JsonObject link = await(b.get(path + "/link")).bodyAsJsonObject();
    assertThat(link.getString("etag")).isEqualTo(etag);
    assertThat(link.getLong("size")).isEqualTo(png.length);
    var direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(link.getString("url"))).build(),
        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    assertThat(direct.statusCode()).isEqualTo(200);
    assertThat(direct.body()).isEqualTo(png);

    await(a.images.delete(ImageKeys.of(id, run.attempt(), 0)));
    HttpResponse<Buffer> gone = await(a.get(path));
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(gone.getHeader("ETag")).isNull();
    assertThat(a.counter("genmesh.errors", "op", "image_missing")).isEqualTo(1.0);
    await(b.undeploy());
    await(a.undeploy());
  }

  @Test
  void aResultMustNameItsAttemptsOwnKeysWithSizesAndHashes(Vertx vertx) {
    NodeUnderTest node = await(NodeUnderTest.deploy(vertx,
        TestRegion.config(stores, stores.createDatabase(), TestStores.newKeyPrefix())));
    TestWorker worker = worker(vertx);
    String id = submit(node);
    Assignment run = await(worker.claim());
    String sha = "ab".repeat(32);
    for (StoredImage wrong : List.of(
        new StoredImage(ImageKeys.of(id, run.attempt() + 1, 0), 10, sha),
        new StoredImage("usw_other/1/0.png", 10, sha),
        new StoredImage(ImageKeys.of(id, run.attempt(), 0), 0, sha),
        new StoredImage(ImageKeys.of(id, run.attempt(), 0), 10, "not-a-hash"))) {
      Throwable refused = Waits.failure(worker.report(new Result(id, run.attempt(), worker.id, List.of(wrong), 1.0)));
      assertThat(((ReplyException) refused).failureCode()).as("%s", wrong).isEqualTo(BusFailure.BAD_MESSAGE);
    }
    assertThat(node.view(id).getString("status")).isEqualTo("assigned");
    await(node.undeploy());
  }

  @Test
  void theSweeperDeletesEveryObjectNoCompletedRequestPublishedAndKeepsThePublishedOnes(Vertx vertx) {
    String database = stores.createDatabase();
    GenmeshConfig base = TestRegion.config(stores, database, TestStores.newKeyPrefix());
    GenmeshConfig config = base.withImages(base.images().withSweep(0, 100));
    NodeUnderTest node = await(NodeUnderTest.deploy(vertx, config));
    TestWorker worker = worker(vertx);

    String completed = submit(node);
    Assignment run = await(worker.claim());
    // A later attempt's upload whose report is stale (an attempt that never was): an orphan.
    Waits.failure(worker.result(completed, run.attempt() + 1, List.of(TestWorker.png(2))));
    await(worker.result(completed, run.attempt(), List.of(TestWorker.png(1))));

    String cancelled = submit(node);
    Assignment cancelledRun = await(worker.claim());
    assertThat(await(node.delete("/regional/v1/generations/" + cancelled)).statusCode()).isEqualTo(200);
    Waits.failure(worker.result(cancelled, cancelledRun.attempt(), List.of(TestWorker.png(3))));

    String running = submit(node);
    Assignment runningRun = await(worker.claim());
    await(node.images.put(ImageKeys.of(running, runningRun.attempt(), 0), Buffer.buffer(TestWorker.png(4)), "image/png", null));

    // A pass marks the rows first, then deletes: wait for both (the deletes end after the marks).
    Waits.eventually("the sweeper to take both ended requests and delete their orphans", () ->
        stores.query(database, "SELECT id FROM requests WHERE images_swept_at IS NOT NULL AND id IN (?, ?)",
            completed, cancelled).size() == 2 && node.counter("genmesh.images.orphans.deleted") >= 2.0);
    assertThat(keys(node, completed)).containsExactly(ImageKeys.of(completed, run.attempt(), 0));
    assertThat(keys(node, cancelled)).isEmpty();
    assertThat(keys(node, running)).as("a running request is not swept").hasSize(1);
    assertThat(node.counter("genmesh.images.orphans.deleted")).isEqualTo(2.0);
    assertThat(await(node.get("/regional/v1/images/" + completed + "/0.png")).body().getBytes())
        .isEqualTo(TestWorker.png(1));
    await(node.undeploy());
  }

  private static List<String> keys(NodeUnderTest node, String id) {
    return await(node.images.list(ImageKeys.requestPrefix(id))).stream().map(o -> o.key()).toList();
  }
}
