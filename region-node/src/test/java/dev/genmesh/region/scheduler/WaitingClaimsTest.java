package dev.genmesh.region.scheduler;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.region.NodeUnderTest;
import dev.genmesh.region.TestRegion;
import dev.genmesh.region.TestWorker;
import dev.genmesh.region.node.RegionMetrics;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Claims that wait (long polls) on a real node: a submit wakes one idle worker, not all of them; a
 * worker that does not acknowledge what its waiting claim got loses it back to the queue; a worker
 * that does not wait still learns of work from the publish.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class WaitingClaimsTest {
  private static final String MODEL = "genmesh-tiny";
  private static final byte[] PNG = TestWorker.png(3);
  private static TestStores stores;

  private Vertx vertx;
  private String database;
  private NodeUnderTest node;
  private final List<IdleWorker> workers = new ArrayList<>();

  @BeforeAll
  static void startStores(TestStores shared) {
    stores = shared;
  }

  @BeforeEach
  void deploy(Vertx vertx) {
    this.vertx = vertx;
    database = stores.createDatabase();
    node = await(NodeUnderTest.deploy(vertx, TestRegion.config(stores, database, TestStores.newKeyPrefix())));
  }

  @AfterEach
  void undeploy() {
    workers.forEach(IdleWorker::stop);
    await(node.undeploy());
  }

  private String submit(String prompt) {
    HttpResponse<Buffer> response = await(node.submit(
        new GenerationSpec(prompt, "", MODEL, Tier.FAST, 512, 512, 3, 42, 7.5, 1).toJson()));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(202);
    return response.bodyAsJsonObject().getString("id");
  }

  private double waitingClaims() {
    return node.meters.get(RegionMetrics.CLAIMS_WAITING).gauge().value();
  }

  private String status(String id) {
    return (String) stores.query(database, "SELECT status FROM requests WHERE id = ?", id).get(0).get("status");
  }

  private double claimRuns(String outcome) {
    return node.counter(RegionMetrics.CLAIMS, "outcome", outcome);
  }

  /**
   * Sixteen idle workers, each with a claim waiting; 24 requests one after another. Each is taken
   * by one woken claim, and nobody else is asked: no claim ran without work meanwhile, on the node
   * or as the workers see it. (With every idle worker woken per submit, as a publish to all does,
   * 15 of 16 would run for nothing.)
   */
  @Test
  void aSubmitWakesOneWaitingWorkerNotEveryIdleOne() {
    for (int i = 0; i < 16; i++) {
      workers.add(new IdleWorker("w" + i, 20_000, true).start());
    }
    Waits.eventually("16 claims waiting (idle workers' claims wait instead of coming back empty)",
        () -> waitingClaims() == 16);
    int before = answered();
    double runsBefore = claimRuns("assigned") + claimRuns("none");

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      String id = submit("a lighthouse, take " + i);
      ids.add(id);
      Waits.eventually(id + " completed", () -> "COMPLETED".equals(status(id)));
    }
    Waits.eventually("16 claims waiting again", () -> waitingClaims() == 16);

    int assigned = workers.stream().mapToInt(w -> w.assigned.get()).sum();
    int empty = workers.stream().mapToInt(w -> w.noWork.get()).sum();
    assertThat(assigned).isEqualTo(24);
    assertThat(empty).as("claims answered NO_WORK while 24 requests came").isZero();
    assertThat((answered() - before) / 24.0).as("claims answered per request").isEqualTo(1.0);
    // On the node: the 24 woken claims, and the 24 claims after each result, which found nothing and wait again.
    assertThat(claimRuns("assigned") + claimRuns("none") - runsBefore).as("claim runs on the node").isEqualTo(48.0);
    assertThat(workers.stream().filter(w -> w.assigned.get() > 0).count()).as("workers that got work").isGreaterThan(1);
  }

  /** A claim that waited and got work must be acknowledged; unacknowledged, the request goes back, no retry spent. */
  @Test
  void anAssignmentAWaitingClaimDidNotAcknowledgeGoesBackToTheQueue() {
    IdleWorker silent = new IdleWorker("silent", 20_000, false).start();
    workers.add(silent);
    Waits.eventually("the silent worker's claim waits", () -> waitingClaims() == 1);

    String id = submit("a lighthouse nobody acknowledges");
    Waits.eventually("the silent worker got it", () -> silent.assigned.get() == 1);
    Waits.eventually(10, () -> "QUEUED".equals(status(id)), id + " back in the queue");
    JsonObject view = node.view(id);
    assertThat(view.getInteger("retry_count")).as("a put-back, not a retry").isZero();
    assertThat(node.events(id)).anySatisfy(event -> {
      assertThat(event.getString("type")).isEqualTo("queued");
      assertThat(event.getString("reason")).isEqualTo("not_acknowledged");
    });

    silent.stop();
    IdleWorker other = new IdleWorker("other", 20_000, true).start();
    workers.add(other);
    Waits.eventually(id + " completed by another worker", () -> "COMPLETED".equals(status(id)));
    assertThat(node.view(id).getInteger("attempt")).isEqualTo(2);
  }

  /** No claim waits here: the submit is published, and a worker that does not wait claims on it. */
  @Test
  void aWorkerThatDoesNotWaitLearnsOfWorkFromThePublish() {
    Set<String> published = ConcurrentHashMap.newKeySet();
    MessageConsumer<Object> listener = vertx.eventBus().consumer(Addresses.workAvailable(TestRegion.REGION),
        message -> published.add(String.valueOf(message.body())));
    IdleWorker waiting = new IdleWorker("waiting", 2_000, true).start();
    workers.add(waiting);
    Waits.eventually("a claim waits", () -> waitingClaims() == 1);

    String first = submit("taken by the waiting claim");
    Waits.eventually(first + " completed", () -> "COMPLETED".equals(status(first)));
    assertThat(published).as("a submit a waiting claim took is not published").isEmpty();

    waiting.stop(); // its claim waits out its 2 s, then it claims no more
    Waits.eventually("no claim waits", () -> waitingClaims() == 0);
    IdleWorker legacy = new IdleWorker("legacy", 0, true).start();
    workers.add(legacy);
    Waits.eventually("the legacy worker's first claim came back empty", () -> legacy.noWork.get() == 1);

    String second = submit("for a worker that does not wait");
    Waits.eventually(second + " completed", () -> "COMPLETED".equals(status(second)));
    assertThat(published).containsExactly("fast");
    assertThat(legacy.assigned.get()).isEqualTo(1);
    await(listener.unregister());
  }

  private int answered() {
    return workers.stream().mapToInt(w -> w.assigned.get() + w.noWork.get()).sum();
  }

  /**
   * An idle worker as WorkLoop is one: claims with {@code wait_ms} (0: a worker that does not
   * wait, which claims on the {@code workAvailable} publish instead), acknowledges an assignment
   * when asked (unless {@code acknowledges} is false), hands in a PNG at once and claims again;
   * empty after waiting, it claims again at once.
   */
  private final class IdleWorker {
    final String id;
    final long waitMs;
    final boolean acknowledges;
    final AtomicInteger assigned = new AtomicInteger();
    final AtomicInteger noWork = new AtomicInteger();
    private MessageConsumer<Object> publishes;
    private volatile boolean busy;
    private volatile boolean stopped;
    /** Uploads the result's PNG to the region's bucket and reports it, as a worker does. */
    private final TestWorker results;

    IdleWorker(String id, long waitMs, boolean acknowledges) {
      this.id = id;
      this.results = new TestWorker(vertx, TestRegion.REGION, id, List.of());
      this.waitMs = waitMs;
      this.acknowledges = acknowledges;
    }

    IdleWorker start() {
      vertx.runOnContext(v -> {
        publishes = vertx.eventBus().consumer(Addresses.workAvailable(TestRegion.REGION), message -> {
          if (!busy) {
            claim();
          }
        });
        claim();
      });
      return this;
    }

    void stop() {
      stopped = true;
      vertx.runOnContext(v -> {
        if (publishes != null) {
          publishes.unregister();
        }
      });
    }

    private void claim() {
      if (stopped) {
        busy = false;
        return;
      }
      busy = true;
      long asked = System.nanoTime();
      vertx.eventBus().<JsonObject>request(Addresses.claim(TestRegion.REGION),
              new Claim(id, "cpu", 8192, List.of(MODEL), null, waitMs).toJson(),
              new DeliveryOptions().setSendTimeout(waitMs + 10_000))
          .onComplete(reply -> {
            if (reply.succeeded()) {
              assigned.incrementAndGet();
              Message<JsonObject> message = reply.result();
              if (message.replyAddress() != null && acknowledges) {
                message.reply(new JsonObject().put("worker_id", id));
              }
              if (acknowledges && !stopped) {
                handIn(Assignment.fromJson(message.body()));
              }
            } else if (reply.cause() instanceof ReplyException re && re.failureCode() == BusFailure.NO_WORK) {
              noWork.incrementAndGet();
              if (waitMs > 0 && System.nanoTime() - asked >= waitMs * 500_000L) {
                claim();
              } else {
                busy = false;
              }
            } else {
              busy = false;
            }
          });
    }

    private void handIn(Assignment assignment) {
      results.result(assignment.requestId(), assignment.attempt(), List.of(PNG)).onComplete(done -> claim());
    }
  }
}
