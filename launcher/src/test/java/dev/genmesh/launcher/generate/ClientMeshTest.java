package dev.genmesh.launcher.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.client.ClientOptions;
import dev.genmesh.client.EventStream;
import dev.genmesh.client.Generation;
import dev.genmesh.client.GenerationEvent;
import dev.genmesh.client.GenerationPage;
import dev.genmesh.client.GenerationRequest;
import dev.genmesh.client.GenmeshClient;
import dev.genmesh.client.GenmeshException;
import dev.genmesh.launcher.Mesh;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client library against a real mesh ({@link OneRegionMesh}: edge, region node, worker, real
 * PostgreSQL, Redis and object store), directly and through a {@link CutProxy} that breaks
 * connections on cue.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientMeshTest {
  private static final long WAIT_S = 60;

  @TempDir static java.nio.file.Path dataDir;
  private Mesh mesh;
  private Vertx vertx;
  private CutProxy proxy;
  private GenmeshClient client;
  private GenmeshClient viaProxy;

  @BeforeAll
  void start() {
    mesh = OneRegionMesh.start(dataDir);
    vertx = Vertx.vertx();
    proxy = new CutProxy(vertx, mesh.edgePort()).start();
    String key = mesh.localKey().orElseThrow().secret();
    client = GenmeshClient.create(vertx, ClientOptions.of("http://127.0.0.1:" + mesh.edgePort(), key));
    viaProxy = GenmeshClient.create(vertx, ClientOptions.of(proxy.url(), key)
        .withRetries(5, Duration.ofMillis(50), Duration.ofSeconds(1)));
  }

  @AfterAll
  void stop() {
    if (vertx != null) {
      client.close();
      viaProxy.close();
      proxy.close();
      Waits.await(vertx.close());
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void submitFollowToCompletedInOrderAndDownloadThePng() throws Exception {
    Generation accepted = Waits.await(client.submit(GenerationRequest.of("a lighthouse at dusk").withTier("turbo")
        .withSize(256, 320).withSteps(4).withSeed(7).withPreviewEvery(2)));
    assertThat(accepted.status()).isEqualTo("queued");
    assertThat(accepted.region()).isEqualTo("us-west");

    List<GenerationEvent> events = new CopyOnWriteArrayList<>();
    EventStream stream = client.follow(accepted.id(), 0, events::add);
    GenerationEvent last = Waits.await(WAIT_S, stream.done());

    assertThat(last).isInstanceOf(GenerationEvent.Completed.class);
    assertThat(events).extracting(GenerationEvent::type)
        .containsExactly("queued", "assigned", "step", "step", "step", "step", "completed");
    assertThat(events).extracting(GenerationEvent::id).containsExactlyElementsOf(ids(1, events.size()));
    assertThat(events.get(0)).isInstanceOfSatisfying(GenerationEvent.Queued.class, q -> assertThat(q.position()).isNotNull());
    assertThat(events.get(1)).isInstanceOfSatisfying(GenerationEvent.Started.class,
        s -> assertThat(s.worker()).isEqualTo("usw-worker-1"));
    List<GenerationEvent.Step> steps = events.stream().filter(GenerationEvent.Step.class::isInstance)
        .map(GenerationEvent.Step.class::cast).toList();
    assertThat(steps).extracting(GenerationEvent.Step::step).containsExactly(1, 2, 3, 4);
    assertThat(steps).extracting(s -> s.preview() != null).containsExactly(false, true, false, true);

    List<String> images = ((GenerationEvent.Completed) last).images();
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(Waits.await(client.image(images.get(0))).getBytes()));
    assertThat(png.getWidth()).isEqualTo(256);
    assertThat(png.getHeight()).isEqualTo(320);
    assertThat(Waits.await(client.get(accepted.id())).status()).isEqualTo("completed");
  }

  @Test
  void aBrokenStreamResumesAfterTheLastEventWithNoneMissedOrRepeated() {
    Generation waiting = Waits.await(client.submit(GenerationRequest.of("a queue that waits")
        .withModel(OneRegionMesh.UNSERVED).withSteps(2)));
    List<GenerationEvent> events = new CopyOnWriteArrayList<>();
    EventStream stream = viaProxy.follow(waiting.id(), 0, events::add);
    Waits.eventually(WAIT_S, () -> !events.isEmpty(), "the queued event through the proxy");
    int before = proxy.connections.get();

    proxy.cutAll(); // the socket is reset: no close frame, the client must reconnect with ?after=1
    Waits.eventually(WAIT_S, () -> proxy.connections.get() > before, "the client reconnected through the proxy");
    Waits.await(client.cancel(waiting.id()));
    GenerationEvent last = Waits.await(WAIT_S, stream.done());

    assertThat(last).isInstanceOf(GenerationEvent.Cancelled.class);
    assertThat(stream.reconnects()).isGreaterThanOrEqualTo(1);
    assertThat(events).extracting(GenerationEvent::type).containsExactly("queued", "cancelled");
    assertThat(events).extracting(GenerationEvent::id).containsExactly(1L, 2L);
    assertThat(stream.duplicatesDropped()).as("the edge resumed after 1 and replayed nothing").isZero();
  }

  @Test
  void aCompletedRunFollowedThroughCutsStillSeesEveryEventOnce() {
    Generation accepted = Waits.await(viaProxy.submit(GenerationRequest.of("a harbour").withSize(256, 256).withSteps(12)));
    List<GenerationEvent> events = new CopyOnWriteArrayList<>();
    AtomicInteger cuts = new AtomicInteger();
    EventStream stream = viaProxy.follow(accepted.id(), 0, event -> {
      events.add(event);
      if (event instanceof GenerationEvent.Step step && step.step() % 4 == 1 && cuts.incrementAndGet() <= 3) {
        proxy.cutAll();
      }
    });
    Waits.await(WAIT_S, stream.done());
    assertThat(stream.reconnects()).as("cut while steps were still to come").isPositive();

    List<GenerationEvent> replay = new CopyOnWriteArrayList<>();
    Waits.await(WAIT_S, client.follow(accepted.id(), 0, replay::add).done());
    assertThat(events).extracting(GenerationEvent::id).containsExactlyElementsOf(ids(1, replay.size()));
    assertThat(events).extracting(GenerationEvent::type)
        .containsExactlyElementsOf(replay.stream().map(GenerationEvent::type).toList());
  }

  @Test
  void aSubmitWhoseAnswerWasLostIsRetriedAndCreatesOneGeneration() {
    GenerationPage before = Waits.await(client.list(100, null));
    AtomicInteger retries = new AtomicInteger();
    viaProxy.onRetry((what, attempts, failure, delayMs) -> retries.incrementAndGet());
    proxy.dropNextPostAnswer();
    Generation accepted;
    try {
      accepted = Waits.await(viaProxy.submit(GenerationRequest.of("once only").withModel(OneRegionMesh.UNSERVED)));
    } finally {
      viaProxy.onRetry((what, attempts, failure, delayMs) -> { });
    }
    assertThat(proxy.answersDropped.get()).as("the first 202 never reached the client").isEqualTo(1);
    assertThat(retries.get()).isEqualTo(1);

    String id = accepted.id();
    Waits.eventually(WAIT_S, () -> Waits.await(client.list(1, null)).generations().get(0).id().equals(id),
        "the submit in the caller's history");
    GenerationPage after = Waits.await(client.list(100, null));
    assertThat(after.generations().size() - before.generations().size()).as("one new generation").isEqualTo(1);
    assertThat(after.generations().get(0).id()).isEqualTo(accepted.id());
    Waits.await(client.cancel(accepted.id()));
  }

  @Test
  void cancelAQueuedGenerationTwiceAndACompletedOneIsAConflict() {
    Generation waiting = Waits.await(client.submit(GenerationRequest.of("never drawn").withModel(OneRegionMesh.UNSERVED)));
    assertThat(Waits.await(client.cancel(waiting.id())).status()).isEqualTo("cancelled");
    assertThat(Waits.await(client.cancel(waiting.id())).status()).as("a repeated cancel answers the view").isEqualTo("cancelled");

    Generation quick = Waits.await(client.submit(GenerationRequest.of("quick").withSize(256, 256).withSteps(1)));
    Waits.await(WAIT_S, client.follow(quick.id(), 0, e -> { }).done());
    assertThat(Waits.failure(client.cancel(quick.id()))).isInstanceOfSatisfying(GenmeshException.class, e -> {
      assertThat(e.status()).isEqualTo(409);
      assertThat(e.isRetryable()).isFalse();
    });
  }

  @Test
  void historyComesAPageAtATimeNewestFirst() {
    List<String> ids = LongStream.range(0, 3).mapToObj(i -> Waits.await(client.submit(
        GenerationRequest.of("history " + i).withModel(OneRegionMesh.UNSERVED))).id()).toList();
    // The edge indexes a user's generations after it answers the submit.
    Waits.eventually(WAIT_S, () -> Waits.await(client.list(3, null)).generations().stream()
        .map(GenerationPage.Summary::id).toList().containsAll(ids), "the three submits in the caller's history");
    GenerationPage first = Waits.await(client.list(2, null));
    assertThat(first.generations()).extracting(GenerationPage.Summary::id).containsExactly(ids.get(2), ids.get(1));
    assertThat(first.hasNext()).isTrue();
    GenerationPage second = Waits.await(client.list(2, first.nextCursor()));
    assertThat(second.generations().get(0).id()).isEqualTo(ids.get(0));
    ids.forEach(id -> Waits.await(client.cancel(id)));
  }

  @Test
  void errorsCarryTheEdgesCode() {
    assertThat(Waits.failure(client.submit(GenerationRequest.of("x").withSteps(0))))
        .isInstanceOfSatisfying(GenmeshException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.code()).isEqualTo("out_of_range");
          assertThat(e.field()).contains("steps");
        });
    assertThat(Waits.failure(client.get("usw_00000000000000000000000000"))).isInstanceOfSatisfying(GenmeshException.class,
        e -> assertThat(e.code()).isEqualTo("not_found"));
    assertThat(Waits.failure(client.follow("usw_00000000000000000000000000", 0, e -> { }).done()))
        .isInstanceOfSatisfying(GenmeshException.class, e -> assertThat(e.status()).isEqualTo(404));
    try (GenmeshClient stranger = GenmeshClient.create(vertx,
        ClientOptions.of("http://127.0.0.1:" + mesh.edgePort(), "gmk_0_nope"))) {
      assertThat(Waits.failure(stranger.list(null, null))).isInstanceOfSatisfying(GenmeshException.class, e -> {
        assertThat(e.status()).isEqualTo(401);
        assertThat(e.code()).isEqualTo("unauthorized");
        assertThat(e.isAuth()).isTrue();
      });
    }
  }

  private static List<Long> ids(int from, int count) {
    return LongStream.range(from, from + count).boxed().collect(Collectors.toList());
  }
}
