package dev.genmesh.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.BusFailure;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker against the region's side of the event-bus contract, played here by the test:
 * it hands out assignments on claim and records what the worker reports.
 */
class InferenceVerticleTest {
  private static final String REGION = "us-west";

  @TempDir Path modelRoot;
  private Vertx vertx;
  private final Queue<WorkerMessages.Assignment> work = new ConcurrentLinkedQueue<>();
  private final List<WorkerMessages.Step> steps = new CopyOnWriteArrayList<>();
  private final List<JsonObject> heartbeats = new CopyOnWriteArrayList<>();
  private final CompletableFuture<WorkerMessages.Result> result = new CompletableFuture<>();
  private final CompletableFuture<WorkerMessages.Failure> failure = new CompletableFuture<>();

  @BeforeEach
  void playTheRegion() {
    vertx = Vertx.vertx();
    var bus = vertx.eventBus();
    bus.<JsonObject>consumer(Addresses.claim(REGION), message -> {
      WorkerMessages.Assignment next = work.poll();
      if (next == null) {
        message.fail(BusFailure.NO_WORK, "no work");
      } else {
        message.reply(next.toJson());
      }
    });
    bus.<JsonObject>consumer(Addresses.progress(REGION), message -> {
      WorkerMessages.Step step = WorkerMessages.Step.fromJson(message.body());
      steps.add(step);
      if (step.step() == 2 && step.total() == 40) {
        bus.publish(Addresses.cancel(REGION), new JsonObject().put("request_id", step.requestId()));
      }
    });
    bus.<JsonObject>consumer(Addresses.result(REGION), message -> {
      result.complete(WorkerMessages.Result.fromJson(message.body()));
      message.reply(new JsonObject());
    });
    bus.<JsonObject>consumer(Addresses.failure(REGION), message -> {
      failure.complete(WorkerMessages.Failure.fromJson(message.body()));
      message.reply(new JsonObject());
    });
    bus.<JsonObject>consumer(Addresses.heartbeat(REGION), message -> heartbeats.add(message.body()));
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void claimsRunsReportsEveryStepAndHandsInThePng() throws Exception {
    work.add(new WorkerMessages.Assignment("usw_test1", 1, 30_000, spec(3)));
    deployWorker();

    WorkerMessages.Result done = result.get(60, TimeUnit.SECONDS);

    assertThat(done.requestId()).isEqualTo("usw_test1");
    assertThat(done.attempt()).isEqualTo(1);
    assertThat(done.workerId()).isEqualTo("usw-test-worker");
    assertThat(done.pngs()).hasSize(1);
    var image = ImageIO.read(new ByteArrayInputStream(done.pngs().get(0)));
    assertThat(image.getWidth()).isEqualTo(256);
    assertThat(steps).extracting(WorkerMessages.Step::step).containsExactly(1, 2, 3);
    assertThat(steps).allSatisfy(s -> assertThat(s.total()).isEqualTo(3));
    assertThat(heartbeats).isNotEmpty();
    assertThat(heartbeats.get(0).getJsonArray("loaded_models").getList()).containsExactly("genmesh-tiny");
    assertThat(heartbeats.get(0).getString("gpu_class")).isEqualTo("cpu");
  }

  @Test
  void cancellationStopsAtTheNextStepAndIsReportedAsSuch() throws Exception {
    work.add(new WorkerMessages.Assignment("usw_test2", 1, 30_000, spec(40)));
    deployWorker();

    WorkerMessages.Failure stopped = failure.get(60, TimeUnit.SECONDS);

    assertThat(stopped.failureType()).isEqualTo("cancelled");
    assertThat(stopped.requestId()).isEqualTo("usw_test2");
    assertThat(steps.size()).isGreaterThanOrEqualTo(2).isLessThan(40);
    assertThat(result).isNotDone();
  }

  private void deployWorker() throws Exception {
    GenmeshConfig config = ConfigLoader.load(null, Map.of("GENMESH_WORKER__CLAIM_POLL_MS", "50"));
    var worker = new InferenceVerticle(config, REGION, "usw-test-worker", new SimpleMeterRegistry(), modelRoot);
    vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  private static GenerationSpec spec(int steps) {
    return new GenerationSpec("a quiet harbour", "", "genmesh-tiny", Tier.FAST, 256, 256, steps, 5L, 7.5, 1);
  }
}
