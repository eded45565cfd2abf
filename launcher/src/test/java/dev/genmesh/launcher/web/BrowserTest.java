package dev.genmesh.launcher.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.launcher.Mesh;
import dev.genmesh.protocol.Addresses;
import dev.genmesh.testkit.HeadlessChromium;
import dev.genmesh.testkit.Waits;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page and the operator console in a real headless Chromium (Chrome DevTools Protocol,
 * {@link HeadlessChromium}) against a real mesh of one region: embedded stores, a region node, a
 * CPU worker running the bundled model, the edge. Skipped, saying how to install Chromium, where
 * there is none. Screenshots go to target/browser/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BrowserTest {
  private static final long WAIT_S = 90;
  private static final Path SHOTS = Path.of("target", "browser");

  @TempDir static Path dataDir;
  private Mesh mesh;
  private Vertx vertx;
  private WebClient http;
  private HeadlessChromium browser;
  private String userKey;
  private String adminKey;
  private String base;

  @BeforeAll
  void start() throws Exception {
    if (HeadlessChromium.binary().isEmpty()) {
      return; // each test is skipped, saying how to install Chromium (surefire reports a class-level skip silently)
    }
    GenmeshConfig loaded = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500",
        "GENMESH_EDGE__OPS__SAMPLE_INTERVAL_MS", "500"));
    GenmeshConfig config = loaded.withRegions(Map.of("us-west", loaded.region("us-west")));
    mesh = Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1"), step -> {});
    vertx = Vertx.vertx();
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(mesh.edgePort()));
    userKey = mesh.localKey().orElseThrow().secret();
    UserStore users = UserStores.open(vertx, mesh.config().users());
    try {
      Waits.await(WAIT_S, users.addUser("ops", List.of()));
      adminKey = Waits.await(WAIT_S, users.issueKey("ops", List.of(), true)).secret();
    } finally {
      Waits.await(WAIT_S, users.close());
    }
    base = "http://127.0.0.1:" + mesh.edgePort();
    browser = HeadlessChromium.start(Files.createDirectories(dataDir.resolve("browser")));
  }

  @BeforeEach
  void needsChromium() {
    HeadlessChromium.assumeInstalled();
  }

  @AfterAll
  void stop() {
    if (browser != null) {
      browser.close();
    }
    if (vertx != null) {
      Waits.await(WAIT_S, vertx.close());
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void aUserWithAKeyGeneratesWatchesCancelsAndSeesHistory() throws Exception {
    browser.navigate(base + "/");
    browser.waitFor("document.getElementById('model').value === 'genmesh-tiny'", WAIT_S, "the model picker filled from /v1/models");
    assertThat((String) browser.eval("Array.from(document.querySelectorAll('#size option')).map(o => o.value).join(' ')"))
        .contains("256x256", "512x512");
    browser.eval("document.getElementById('apikey').value = " + quoted(userKey) + "; document.getElementById('savekey').click()");
    assertThat((String) browser.eval("document.getElementById('keysummary').textContent")).contains(userKey.substring(0, 12));

    browser.eval("document.getElementById('prompt').value = 'a lighthouse at dusk';"
        + "document.getElementById('size').value = '256x256'; document.getElementById('steps').value = '6';"
        + "document.getElementById('seed').value = '42'; document.getElementById('tier-turbo').checked = true;"
        + "document.getElementById('submit').click()");
    // Step events (with previews) reach the page only over a WebSocket that carried the key: the request is
    // the user local's, and anyone else gets a 404 for its stream.
    browser.waitFor("document.getElementById('preview').src.startsWith('data:image/png')", WAIT_S, "a preview from a step event");
    browser.waitFor("Array.from(document.querySelectorAll('img.generated')).some(i => i.complete && i.naturalWidth === 256)",
        WAIT_S, "the finished 256x256 image");
    String id = (String) browser.eval("document.getElementById('meta').dataset.id");
    browser.waitFor("document.querySelector('#history figure[data-id=\"" + id + "\"] img.thumb')", WAIT_S,
        "the generation in the history, with its thumbnail");
    browser.screenshot(SHOTS.resolve("page-completed.png"));

    JsonObject mine = Waits.await(WAIT_S, http.get("/v1/generations").putHeader("Authorization", "Bearer " + userKey).send())
        .bodyAsJsonObject();
    assertThat(mine.getJsonArray("generations").getJsonObject(0).getString("id")).isEqualTo(id);

    // A request the edge refuses (past the form's own checks): its message, on the page.
    browser.eval("document.getElementById('steps').value = '999';"
        + "document.getElementById('form').dispatchEvent(new Event('submit', {cancelable: true}))");
    browser.waitFor("getComputedStyle(document.getElementById('error')).display === 'block'"
        + " && document.getElementById('error').textContent.includes('steps')", WAIT_S, "the 400's message, naming steps");

    // Cancel: a long relax request, cancelled as soon as it is accepted.
    browser.eval("document.getElementById('error').style.display = 'none';"
        + "document.getElementById('size').value = '1024x1024'; document.getElementById('steps').value = '50';"
        + "document.getElementById('tier-relax').checked = true; document.getElementById('submit').click()");
    browser.waitFor("!document.getElementById('cancel').classList.contains('hidden') && document.getElementById('meta').dataset.id !== "
        + quoted(id), WAIT_S, "the second request accepted");
    browser.eval("document.getElementById('cancel').click()");
    browser.waitFor("document.getElementById('barText').textContent === 'Cancelled'", WAIT_S, "the cancelled state");
    String cancelled = (String) browser.eval("document.getElementById('meta').dataset.id");
    browser.waitFor("(document.querySelector('#history figure[data-id=\"" + cancelled + "\"] .ph') || {}).textContent === 'cancelled'",
        WAIT_S, "the cancelled request in the history");
    browser.screenshot(SHOTS.resolve("page-cancelled.png"));
  }

  @Test
  void theOpsConsoleShowsTheRegionLiveToAnAdminOnly() throws Exception {
    browser.navigate(base + "/ops");
    browser.eval("localStorage.removeItem('genmesh.adminKey')");
    browser.navigate(base + "/ops");
    browser.eval("document.getElementById('adminkey').value = " + quoted(userKey) + "; document.getElementById('savekey').click()");
    browser.waitFor("document.getElementById('error').textContent.includes('forbidden')", WAIT_S, "a user key refused (403)");

    browser.eval("document.getElementById('adminkey').value = " + quoted(adminKey) + "; document.getElementById('savekey').click()");
    browser.waitFor("document.getElementById('regions').textContent.includes('us-west')"
        + " && document.getElementById('regions').textContent.includes('healthy')", WAIT_S, "the region, healthy");
    browser.waitFor("document.getElementById('workers').textContent.includes('healthy')", WAIT_S, "the region's worker");
    browser.waitFor("document.getElementById('queues').textContent.includes('turbo')", WAIT_S, "the tier queues");
    browser.waitFor("document.getElementById('breakers').textContent.includes('closed')", WAIT_S, "the breakers");
    // An alert on the region's event bus reaches the console live (region node, edge's sample, the stream).
    mesh.regionMembers().get(0).eventBus().publish(Addresses.ALERTS, new JsonObject().put("type", "breaker")
        .put("region", "us-west").put("kind", "model").put("name", "genmesh-small").put("from", "closed").put("to", "open")
        .put("at", Instant.now().toString()).put("reason", "5 failures in a row"));
    browser.waitFor("document.getElementById('alerts').textContent.includes('genmesh-small')"
        + " && document.getElementById('alerts').textContent.includes('5 failures in a row')", WAIT_S, "the alert, live");
    String first = (String) browser.eval("document.getElementById('live').textContent");
    browser.waitFor("document.getElementById('live').textContent !== " + quoted(first)
        + " && document.querySelectorAll('#chartHealth polyline').length === 2", WAIT_S, "a new sample, live, drawn on the chart");
    browser.screenshot(SHOTS.resolve("ops-console.png"));
    assertThat(Waits.await(WAIT_S, http.get("/v1/admin/ops/snapshot").putHeader("Authorization", "Bearer " + userKey).send())
        .statusCode()).isEqualTo(403);
  }

  private static String quoted(String text) {
    return new io.vertx.core.json.JsonArray().add(text).encode().replaceAll("^\\[|\\]$", "");
  }
}
