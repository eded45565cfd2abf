package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.embedded.EmbeddedStores;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference safety service runs as its own process ({@code genmesh safety}) and the region
 * calls it through {@code safety.url}. It is SIGKILLed: finished requests wait in
 * safety_pending and say why, their images cannot be fetched; it is started again on the same
 * port: every request completes, and none completed without the check's answer.
 */
class SafetyOutageTest {
  private static final String UNAVAILABLE = "safety service unavailable; your image is waiting for its check";
  private static final int DURING_OUTAGE = 3;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void requestsWaitWhileTheSafetyServiceIsDownAndCompleteCheckedWhenItIsBack() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    int safetyPort = EmbeddedStores.freePort();
    ProcessRegion region = new ProcessRegion(children, dir, stores, """
        safety:
          url: "http://127.0.0.1:%d"
          timeout_ms: 2000
          retry_interval_ms: 300
          breaker_failures: 2
          breaker_open_ms: 500
          alert_after_ms: 3000
        """.formatted(safetyPort));
    ChildProcess safety = region.startSafety("safety", safetyPort);
    region.start("w1");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    // With the service up, a request goes through the gate at once.
    String before = invariants.record(api.submit(MeshClient.spec("a lighthouse at dusk", 4, 256, 1)));
    assertThat(before).isNotNull();
    Sleeps.until("the first request to complete", Duration.ofSeconds(90),
        () -> "completed".equals(api.view(before).json().getString("status")) ? true : null);

    safety.kill();
    List<String> waiting = new ArrayList<>();
    for (int i = 0; i < DURING_OUTAGE; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("a kite over dunes " + i, 4, 256, 10 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      waiting.add(invariants.record(answer));
    }
    for (String id : waiting) {
      JsonObject view = Sleeps.until(id + " to wait in safety_pending, saying why", Duration.ofSeconds(90), () -> {
        JsonObject v = api.view(id).json();
        return "safety_pending".equals(v.getString("status")) && v.getJsonObject("safety") != null
            && UNAVAILABLE.equals(v.getJsonObject("safety").getString("reason")) ? v : null;
      });
      assertThat(view.getJsonArray("images")).isEmpty();
      assertThat(api.events(id)).filteredOn(e -> "safety_pending".equals(e.getString("type")))
          .extracting(e -> e.getString("reason")).contains(UNAVAILABLE);
      MeshClient.Answer image = api.imageAt(id, 0);
      assertThat(image.status()).as("image of %s while it waits: %s", id, image.body()).isEqualTo(409);
    }
    // Still waiting (never re-queued, never delivered) long enough for the too-long alert to fire.
    region.node().awaitLine(Pattern.compile("has waited \\d+ ms in safety_pending"), Duration.ofSeconds(30));
    for (String id : waiting) {
      assertThat(api.view(id).json().getString("status")).isEqualTo("safety_pending");
      assertThat(api.imageAt(id, 0).status()).isNotEqualTo(200);
    }

    region.startSafety("safety-again", safetyPort);
    Map<String, JsonObject> finals = invariants.awaitTerminal(api, Duration.ofSeconds(60));
    invariants.assertHold(api, finals);
    invariants.assertAllCompleted(finals);

    // Nothing completed unchecked: every completion carries the service's allow; those finished during the outage
    // waited in safety_pending first (with the service up, the check comes before the result is written).
    for (String id : invariants.acknowledged()) {
      List<JsonObject> events = api.events(id);
      List<String> types = events.stream().map(e -> e.getString("type")).toList();
      assertThat(types).as("events of %s", id).endsWith("completed");
      if (waiting.contains(id)) {
        assertThat(types.indexOf("safety_pending")).as("%s waited for its check before completing", id)
            .isBetween(0, types.size() - 2);
      }
      JsonObject completed = events.get(events.size() - 1);
      assertThat(completed.getJsonObject("safety")).as("verdict in the completion of %s", id).isNotNull();
      assertThat(completed.getJsonObject("safety").getString("verdict")).isEqualTo("allow");
    }
    for (String id : waiting) {
      assertThat(api.events(id)).extracting(e -> e.getString("reason")).contains(UNAVAILABLE);
    }
  }
}
