package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.testkit.HeadlessChromium;
import dev.genmesh.testkit.Waits;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page's states for what a real mesh rarely shows on cue, in a real headless Chromium: a
 * region failover while queued, the safety check's wait, and a blocked image. The edge is real;
 * its regions are {@link FakeRegion}s that stream the events of region-node/API.md. (The page's
 * ordinary life against a real region and worker: launcher's BrowserTest.) Skipped without Chromium.
 */
class PageStatesBrowserTest {
  private static final long S = 30;
  @TempDir Path dir;
  private TestEdge edge;
  private HeadlessChromium browser;

  @BeforeEach
  void start() throws Exception {
    HeadlessChromium.assumeInstalled();
    edge = new TestEdge(e -> e);
    browser = HeadlessChromium.start(dir);
    browser.navigate("http://127.0.0.1:" + edge.port + "/");
    browser.waitFor("document.getElementById('model').value !== ''", S, "the model picker filled");
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.close();
    }
    if (edge != null) {
      edge.close();
    }
  }

  @Test
  void failoverSafetyWaitAndBlockAreSaidPlainly() throws Exception {
    String id = submitFromThePage("a lighthouse");
    String preview = Base64.getEncoder().encodeToString(FakeRegion.png(8, 8));
    edge.usWest.running.add(id); // the stream stays open after these events
    edge.usWest.events.put(id, stamped(id, List.of(
        new JsonObject().put("type", "queued").put("queue_position", 3).put("position", 3).put("eta_ms", 12_000),
        new JsonObject().put("type", "assigned").put("worker", "usw-worker-1").put("attempt", 1),
        new JsonObject().put("type", "step").put("step", 1).put("total", 4).put("step_ms", 10).put("preview", preview),
        new JsonObject().put("type", "region_failover").put("from", "us-west").put("to", "us-east")
            .put("reason", "region us-west declared down").put("previous_status", "generating")
            .put("queue_position", 1).put("position", 1).put("eta_ms", 4_000),
        new JsonObject().put("type", "safety_pending").put("reason", "waiting for the safety check").put("images", 1))));

    browser.waitFor("document.getElementById('log').textContent.includes("
        + "'Region us-west failed; us-east took the request over (1 ahead of you, starts in about 4 s)')",
        S, "the failover in the log, with the request's place at its new region");
    browser.waitFor("document.getElementById('state').textContent.includes('waiting for its safety check')", S,
        "the safety wait, in the state banner");
    assertThat((String) browser.eval("document.getElementById('queue').textContent")).as("no queue once it waits for safety")
        .isEmpty();
    assertThat((String) browser.eval("document.getElementById('previewText').textContent")).isEqualTo("Preview at step 1");
    assertThat((String) browser.eval("document.getElementById('barText').textContent")).isEqualTo("Safety check");
    browser.screenshot(Path.of("target", "browser", "page-failover-safety.png"));

    String blocked = submitFromThePage("something the safety check blocks");
    edge.usWest.events.put(blocked, stamped(blocked, List.of(
        new JsonObject().put("type", "queued").put("queue_position", 0).put("position", 0).put("eta_ms", 1_000),
        new JsonObject().put("type", "safety_pending").put("reason", "waiting for the safety check").put("images", 1),
        new JsonObject().put("type", "failed").put("code", "safety_blocked").put("message", "blocked"))));
    browser.waitFor("document.getElementById('error').textContent === 'The safety check blocked this image.'", S,
        "the block, said plainly");
    assertThat((String) browser.eval("document.getElementById('state').classList.contains('hidden') + ''")).isEqualTo("true");
    browser.screenshot(Path.of("target", "browser", "page-blocked.png"));
  }

  /** Submits from the page; returns the id the (fake) region gave it. */
  private String submitFromThePage(String prompt) {
    int before = edge.usWest.views.size();
    String previous = String.valueOf(browser.eval("document.getElementById('meta').dataset.id || ''"));
    browser.eval("document.getElementById('prompt').value = " + new io.vertx.core.json.JsonArray().add(prompt).encode()
        .replaceAll("^\\[|\\]$", "") + "; document.getElementById('submit').click()");
    Waits.eventually(S, () -> edge.usWest.views.size() > before, "the submit at the region");
    browser.waitFor("(document.getElementById('meta').dataset.id || '') !== '" + previous + "'", S,
        "the page following the new request");
    String id = (String) browser.eval("document.getElementById('meta').dataset.id");
    assertThat(edge.usWest.views).containsKey(id);
    return id;
  }

  private static List<JsonObject> stamped(String id, List<JsonObject> events) {
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      out.add(events.get(i).copy().put("id", i + 1).put("request_id", id).put("time", Instant.now().toString()));
    }
    return out;
  }
}
