package dev.genmesh.inference;

import static dev.genmesh.inference.RegionDouble.REGION;
import static dev.genmesh.inference.RegionDouble.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.inference.registry.ModelSource;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.WorkerMessages;
import dev.genmesh.protocol.scaling.WarmupOrder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scale up, warm up (issue 6): a starting worker asks the region which model to load first, is
 * ready and claims work for that model while the other still loads, then claims both. The model
 * loaded second is held at a gate (its resolve blocks) so that "before it is loaded" is a state
 * the test holds, not a race it hopes to win.
 */
class WarmUpOrderTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String TINY = "genmesh-tiny";
  private static final String SMALL = "genmesh-small";

  private Vertx vertx;
  private RegionDouble region;
  private final MeterRegistry meters = new SimpleMeterRegistry();
  private final List<WarmupOrder.Ask> asks = new CopyOnWriteArrayList<>();
  private GatedSource source;

  @BeforeEach
  void playTheRegion() {
    vertx = Vertx.vertx();
    region = new RegionDouble(vertx);
  }

  @AfterEach
  void close() throws Exception {
    if (source != null) {
      source.open(); // never leave the TensorFlow thread blocked
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void theRegionsFirstModelLoadsFirstAndIsClaimedBeforeTheOtherIsLoaded() throws Exception {
    answerWarmUp(new WarmupOrder.Answer(List.of(SMALL, TINY), null, "demand"));
    InferenceVerticle worker = deploy("w-order", TINY);

    assertThat(asks).singleElement().satisfies(ask -> {
      assertThat(ask.workerId()).isEqualTo("w-order");
      assertThat(ask.gpuClass()).isEqualTo("cpu");
      assertThat(ask.models()).containsExactly(TINY, SMALL);
    });
    assertThat(worker.loadOrder()).containsExactly(SMALL, TINY);
    servesOnlyThenBoth(worker, "w-order", SMALL, TINY);
    assertThat(orders("region")).isEqualTo(1.0);
    assertThat(orders("configured")).isZero();
  }

  @Test
  void withoutAnAnswerTheConfiguredOrderServesAndTheWorkerStillBecomesReady() throws Exception {
    InferenceVerticle worker = deploy("w-alone", SMALL); // nobody answers on the warm-up address

    assertThat(worker.loadOrder()).containsExactly(TINY, SMALL);
    servesOnlyThenBoth(worker, "w-alone", TINY, SMALL);
    assertThat(orders("configured")).isEqualTo(1.0);
    assertThat(orders("region")).isZero();
  }

  @Test
  void anAnswerNamingAnUnknownModelAndOmittingOneIsAppliedToWhatTheWorkerHas() throws Exception {
    answerWarmUp(new WarmupOrder.Answer(List.of("genmesh-huge", SMALL), "genmesh-sd", "plan"));
    InferenceVerticle worker = deploy("w-partial", TINY);

    assertThat(worker.loadOrder()).as("unknown name ignored, omitted model appended").containsExactly(SMALL, TINY);
    servesOnlyThenBoth(worker, "w-partial", SMALL, TINY);
  }

  /** Ready with {@code first} alone while {@code second} is held at the gate; then both are claimed. */
  private void servesOnlyThenBoth(InferenceVerticle worker, String id, String first, String second) throws Exception {
    assertThat(worker.ready()).isTrue();
    assertThat(worker.loadedVersions()).containsOnlyKeys(first);
    assertThat(worker.loadingModels()).containsExactly(second);
    await("the gated model's load to begin", WAIT, () -> source.waiting.getCount() == 0);
    await("claims while the second model loads", WAIT, () -> region.claims.size() >= 2);
    await("a ready heartbeat", WAIT, () -> region.heartbeatsOf(id).stream().anyMatch(WorkerMessages.Heartbeat::ready));
    assertThat(region.claims).as("claims before the second model is loaded").isNotEmpty()
        .allSatisfy(c -> assertThat(c.models()).containsExactly(first));
    assertThat(region.heartbeatsOf(id)).filteredOn(WorkerMessages.Heartbeat::ready).isNotEmpty()
        .allSatisfy(b -> assertThat(b.loadedModels()).containsExactly(first));
    assertThat(gauge(id)).isEqualTo(1.0);

    source.open();
    worker.warmUpFinished().toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    await("a claim for both models", WAIT,
        () -> region.claims.stream().anyMatch(c -> c.models().containsAll(List.of(TINY, SMALL))));
    assertThat(worker.loadedVersions()).containsOnlyKeys(TINY, SMALL);
    assertThat(worker.loadingModels()).isEmpty();
    assertThat(gauge(id)).isZero();
    await("a heartbeat listing both", WAIT, () -> region.lastHeartbeat(id).loadedModels().size() == 2);
  }

  private void answerWarmUp(WarmupOrder.Answer answer) {
    vertx.eventBus().<JsonObject>consumer(Addresses.warmup(REGION), message -> {
      asks.add(WarmupOrder.Ask.fromJson(message.body()));
      message.reply(answer.toJson());
    });
  }

  private InferenceVerticle deploy(String workerId, String gated) throws Exception {
    GenmeshConfig config = ConfigLoader.load(null, new HashMap<>(Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "50",
        "GENMESH_WORKER__HEARTBEAT_INTERVAL_MS", "200",
        "GENMESH_WORKER__MODELS", "[" + TINY + ", " + SMALL + "]")));
    source = new GatedSource(ModelSource.local(config.models(), TestModels.root()), gated);
    var worker = new InferenceVerticle(config, REGION, workerId, meters, source, WorkerOptions.defaults());
    vertx.deployVerticle(worker).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    return worker;
  }

  private double orders(String from) {
    return meters.get("genmesh.worker.warmup.orders").tag("source", from).counter().count();
  }

  private double gauge(String workerId) {
    return meters.get("genmesh.worker.models.loading").tag("worker", workerId).gauge().value();
  }

  /** Resolves {@code gated} only once the test opens the gate (the TensorFlow thread waits there). */
  private static final class GatedSource implements ModelSource {
    final CountDownLatch waiting = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);
    private final ModelSource delegate;
    private final String gated;

    GatedSource(ModelSource delegate, String gated) {
      this.delegate = delegate;
      this.gated = gated;
    }

    void open() {
      gate.countDown();
    }

    @Override
    public Resolved resolve(String name) {
      if (name.equals(gated)) {
        waiting.countDown();
        try {
          if (!gate.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the test never opened the gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return delegate.resolve(name);
    }
  }
}
