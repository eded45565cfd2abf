package dev.genmesh.region.integration;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Usage events ({@code genmesh.usage}) on a real node, PostgreSQL, Redis and object store: one per
 * finished request, built from the row the terminal change returned (the worker's GPU class, the
 * GPU time it reported, the images), and every one marked published in the log, so the sweep does
 * not send it again.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class UsageEventsTest {
  private static final String MODEL = "genmesh-tiny";

  private TestStores stores;
  private String database;
  private NodeUnderTest node;
  private TestWorker worker;
  private final List<JsonObject> usage = new CopyOnWriteArrayList<>();

  @BeforeEach
  void deploy(Vertx vertx, TestStores stores) {
    this.stores = stores;
    TestRegion.Fresh region = TestRegion.fresh(stores);
    database = region.database();
    vertx.eventBus().<JsonObject>consumer(Addresses.USAGE, message -> usage.add(message.body()));
    node = await(NodeUnderTest.deploy(vertx, region.config()));
    worker = new TestWorker(vertx, TestRegion.REGION, "w-" + UUID.randomUUID(), List.of(MODEL), "l4", 24_000);
  }

  @AfterEach
  void undeploy() {
    await(node.undeploy());
  }

  private String submit(String prompt) {
    HttpResponse<Buffer> response = await(node.submit(
        new GenerationSpec(prompt, "", MODEL, Tier.FAST, 512, 512, 2, 42, 7.5, 1).toJson()));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  private List<JsonObject> usageOf(String id) {
    return usage.stream().filter(e -> id.equals(e.getString("request_id"))).toList();
  }

  private long unmarked(List<String> ids) {
    return (Long) stores.query(database, "SELECT count(*) AS n FROM requests WHERE usage_published_at IS NULL AND id IN ('"
        + String.join("', '", ids) + "')").get(0).get("n");
  }

  @Test
  void aCompletedRequestSendsOneUsageEventFromItsRowAndIsMarked() {
    String id = submit("a lighthouse at dusk");
    Assignment assignment = await(worker.claim());
    JsonObject answer = await(worker.result(id, assignment.attempt(), List.of(TestWorker.png(1))));
    assertThat(answer.getString("status")).isEqualTo("completed");

    Waits.eventually("the usage event", () -> usageOf(id).size() == 1);
    JsonObject event = usageOf(id).get(0);
    assertThat(event.getString("status")).isEqualTo("completed");
    assertThat(event.getString("dedupe_key")).isEqualTo(id);
    assertThat(event.getString("region")).isEqualTo(TestRegion.REGION);
    assertThat(event.getString("tier")).isEqualTo("fast");
    assertThat(event.getString("model")).isEqualTo(MODEL);
    assertThat(event.getString("gpu_class")).isEqualTo("l4");
    assertThat(event.getString("worker_id")).isEqualTo(worker.id);
    assertThat(event.getDouble("gpu_seconds")).isEqualTo(0.123); // the 123 ms TestWorker reports
    assertThat(event.getInteger("images")).isEqualTo(1);
    assertThat(event.getInteger("attempts")).isEqualTo(1);
    assertThat(event.getString("error_code")).isNull();
    assertThat(event.getString("time")).isNotNull();
    Waits.eventually("marked published", () -> unmarked(List.of(id)) == 0);
    assertThat(usageOf(id)).hasSize(1);
  }

  @Test
  void aBlockedRequestSendsAFailedUsageEventWithItsCode() {
    String id = submit("gore at dusk");
    Assignment assignment = await(worker.claim());
    assertThat(await(worker.result(id, assignment.attempt(), List.of(TestWorker.png(2)))).getString("status"))
        .isEqualTo("failed");

    Waits.eventually("the usage event", () -> usageOf(id).size() == 1);
    JsonObject event = usageOf(id).get(0);
    assertThat(event.getString("status")).isEqualTo("failed");
    assertThat(event.getString("error_code")).isEqualTo("safety_blocked");
    assertThat(event.getInteger("images")).isZero();
    Waits.eventually("marked published", () -> unmarked(List.of(id)) == 0);
  }

  /** Requests finishing together: each sends exactly one event, and every one is marked (marks coalesce). */
  @Test
  void requestsFinishingTogetherAreEachSentOnceAndAllMarked() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      ids.add(submit("a lighthouse, take " + i));
    }
    List<Future<JsonObject>> results = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      Assignment assignment = await(worker.claim());
      results.add(worker.result(assignment.requestId(), assignment.attempt(), List.of(TestWorker.png(10 + i))));
    }
    results.forEach(result -> assertThat(await(result).getString("status")).isEqualTo("completed"));

    Waits.eventually("every usage event", () -> ids.stream().allMatch(id -> usageOf(id).size() == 1));
    Waits.eventually("every request marked published", () -> unmarked(ids) == 0);
    assertThat(ids).allMatch(id -> usageOf(id).size() == 1);
    List<Map<String, Object>> marked = stores.query(database,
        "SELECT count(*) AS n FROM requests WHERE usage_published_at IS NOT NULL");
    assertThat(marked.get(0).get("n")).isEqualTo((long) ids.size());
  }
}
