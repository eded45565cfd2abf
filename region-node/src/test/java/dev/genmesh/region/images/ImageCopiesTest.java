package dev.genmesh.region.images;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.ImagesConfig;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.registry.Sha256;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Images across regions (docs/architecture.md, "Images across regions"): us-west's completed
 * images are copied to the bucket of copies us-east keeps on its store, and us-east's regional API
 * serves them, also once us-west's node is gone; a copy that fails is made on a later pass; the
 * images of a request that did not complete are never copied.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class ImageCopiesTest {
  private static final String MODEL = "genmesh-tiny";
  private static final String EAST = "us-east";

  @Test
  void theHoldingRegionServesACompletedImageOfTheOtherAlsoWhenItIsGone(Vertx vertx, TestStores stores) throws Exception {
    String copiesPrefix = "c" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    GenmeshConfig config = twoRegions(stores, copiesPrefix + "-{region}");
    NodeUnderTest west = await(NodeUnderTest.deploy(vertx, config));
    NodeUnderTest east = await(NodeUnderTest.deploy(vertx, config, EAST));
    ImageCopier copier = west.node.imageCopies().copier().orElseThrow();
    assertThat(east.node.imageCopies().heldFor()).containsExactly(TestRegion.REGION);

    TestWorker worker = new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of(MODEL));
    String done = submit(west);
    Assignment run = await(worker.claim());
    byte[] png = TestWorker.png(11);
    assertThat(await(worker.result(done, run.attempt(), List.of(png))).getString("status")).isEqualTo("completed");
    String unfinished = submit(west);
    await(worker.claim()); // running, never completes: nothing of it may leave the region

    // The holder's bucket does not exist yet: the copy fails, is counted, and waits for the next pass.
    assertThat(await(copier.copy())).isZero();
    assertThat(west.counter("genmesh.images.copies.failed", "holder", EAST)).isEqualTo(1.0);
    assertThat(await(east.get(imagePath(done))).statusCode()).isEqualTo(404);

    stores.objectStore().createBucket(copiesPrefix + "-" + EAST);
    assertThat(await(copier.copy())).as("requests copied once the holder's bucket is there").isEqualTo(1);
    assertThat(await(copier.copy())).as("a copied request is not copied again").isZero();
    assertThat(west.counter("genmesh.images.copies", "holder", EAST)).isEqualTo(1.0);

    await(west.undeploy());
    HttpResponse<Buffer> served = await(east.get(imagePath(done)));
    assertThat(served.statusCode()).as(served.bodyAsString()).isEqualTo(200);
    assertThat(served.body().getBytes()).isEqualTo(png);
    assertThat(served.getHeader("ETag")).isEqualTo("\"" + Sha256.of(png) + "\"");
    assertThat(served.getHeader("Cache-Control")).contains("immutable");
    HttpResponse<Buffer> range = await(east.get(imagePath(done), "Range", "bytes=0-7"));
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.body().getBytes()).hasSize(8);
    assertThat(await(east.get(imagePath(done) + "/link")).bodyAsJsonObject().getString("url")).contains(copiesPrefix);

    assertThat(await(east.get("/regional/v1/images/" + done + "/1.png")).statusCode()).isEqualTo(404);
    HttpResponse<Buffer> notCopied = await(east.get(imagePath(unfinished)));
    assertThat(notCopied.statusCode()).isEqualTo(404);
    assertThat(notCopied.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
    assertThat(stores.objectStore().bucketDir(copiesPrefix + "-" + EAST).resolve(unfinished)).doesNotExist();
    await(east.undeploy());
  }

  private static String imagePath(String id) {
    return "/regional/v1/images/" + id + "/0.png";
  }

  private static String submit(NodeUnderTest node) {
    HttpResponse<Buffer> response = await(node.submit(
        new GenerationSpec("a lighthouse at dusk", "", MODEL, Tier.FAST, 512, 512, 3, 42, 7.5, 1).toJson()));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  /** us-west and us-east on databases and queues of their own, us-west's copies kept by us-east (no timer: passes by hand). */
  private static GenmeshConfig twoRegions(TestStores stores, String copiesBucket) {
    GenmeshConfig west = TestRegion.config(stores, stores.createDatabase(), TestStores.newKeyPrefix());
    // two regions: each holds the other's copies
    ImagesConfig images = west.images().withCopies(new ImagesConfig.Copies("ring", copiesBucket, 3_600_000, 20));
    return TestRegion.withSecondRegion(west, stores, EAST).withImages(images);
  }
}
