package dev.genmesh.testkit;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real headless Chromium driven over the Chrome DevTools Protocol (one page, the JDK's own
 * WebSocket client: no browser-automation framework). For the browser tests of the web page and
 * the operator console. The binary is {@code -Dgenmesh.chromium=PATH}, {@code GENMESH_CHROMIUM}, or
 * the first of chromium, chromium-browser, google-chrome on the PATH; without one (or when the one
 * named is not executable) the tests are skipped with {@link #INSTALL_HINT}.
 */
public final class HeadlessChromium implements AutoCloseable {
  public static final String INSTALL_HINT = "browser tests need Chromium: apt-get install -y chromium (Debian/Ubuntu, as root),"
      + " or point -Dgenmesh.chromium=PATH or GENMESH_CHROMIUM at a Chromium or Chrome binary";
  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");
  private static final long TIMEOUT_S = 30;

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
  private final List<String> console = new java.util.concurrent.CopyOnWriteArrayList<>();

  private HeadlessChromium(Process process, Path profile, WebSocket socket) {
    this.process = process;
    this.profile = profile;
    this.socket = socket;
  }

  /** The Chromium binary to use, if any. */
  public static Optional<Path> binary() {
    String named = Optional.ofNullable(System.getProperty("genmesh.chromium")).orElse(System.getenv("GENMESH_CHROMIUM"));
    if (named != null && !named.isBlank()) { // named: that one or none
      return Optional.of(Path.of(named)).filter(Files::isExecutable);
    }
    List<String> candidates = new ArrayList<>();
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
        candidates.add(dir + "/" + name);
      }
    }
    return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst();
  }

  /** Skips the calling test (a JUnit assumption) when no Chromium is installed. */
  public static Path assumeInstalled() {
    Optional<Path> found = binary();
    Assumptions.assumeTrue(found.isPresent(), INSTALL_HINT);
    return found.get();
  }

  /** Starts a fresh headless Chromium (its own profile under {@code workDir}) with one blank page. */
  public static HeadlessChromium start(Path workDir) throws Exception {
    Path binary = assumeInstalled();
    Path profile = Files.createTempDirectory(workDir, "chromium-profile");
    Process process = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1800", "--remote-debugging-port=0",
        "--user-data-dir=" + profile, "about:blank")
        .redirectErrorStream(true).start();
    String browserUrl = devtoolsUrl(process);
    URI browser = URI.create(browserUrl);
    HttpClient http = HttpClient.newHttpClient();
    String pageUrl = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
    while (pageUrl == null && System.nanoTime() < deadline) {
      String list = http.send(HttpRequest.newBuilder(URI.create("http://" + browser.getAuthority() + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      io.vertx.core.json.JsonArray targets = new io.vertx.core.json.JsonArray(list);
      for (int i = 0; i < targets.size(); i++) {
        if ("page".equals(targets.getJsonObject(i).getString("type"))) {
          pageUrl = targets.getJsonObject(i).getString("webSocketDebuggerUrl");
        }
      }
      if (pageUrl == null) {
        Thread.sleep(100);
      }
    }
    if (pageUrl == null) {
      process.destroyForcibly();
      throw new IllegalStateException("Chromium opened no page target");
    }
    HeadlessChromium[] self = new HeadlessChromium[1];
    WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(pageUrl), new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          String text = partial.toString();
          partial.setLength(0);
          while (self[0] == null) {
            Thread.onSpinWait();
          }
          self[0].received(new JsonObject(text));
        }
        ws.request(1);
        return null;
      }
    }).get(TIMEOUT_S, TimeUnit.SECONDS);
    self[0] = new HeadlessChromium(process, profile, socket);
    self[0].call("Runtime.enable", new JsonObject());
    self[0].call("Page.enable", new JsonObject());
    return self[0];
  }

  private static String devtoolsUrl(Process process) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> url = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try {
        String line;
        while ((line = out.readLine()) != null) {
          Matcher m = DEVTOOLS.matcher(line);
          if (m.find()) {
            url.complete(m.group(1));
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
      url.completeExceptionally(new IllegalStateException("Chromium exited without a DevTools URL"));
    }, "chromium-output");
    reader.setDaemon(true);
    reader.start();
    try {
      return url.get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException("Chromium did not start: " + e.getMessage(), e);
    }
  }

  private void received(JsonObject message) {
    Integer id = message.getInteger("id");
    if (id != null) {
      CompletableFuture<JsonObject> call = pending.remove(id);
      if (call != null) {
        call.complete(message);
      }
    } else if ("Runtime.consoleAPICalled".equals(message.getString("method"))
        || "Runtime.exceptionThrown".equals(message.getString("method"))) {
      console.add(message.getJsonObject("params").encode());
    }
  }

  /** One CDP command; fails on a protocol error. */
  public JsonObject call(String method, JsonObject params) {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> answer = new CompletableFuture<>();
    pending.put(id, answer);
    socket.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true).join();
    try {
      JsonObject message = answer.get(TIMEOUT_S, TimeUnit.SECONDS);
      if (message.containsKey("error")) {
        throw new IllegalStateException(method + ": " + message.getJsonObject("error").encode());
      }
      return message.getJsonObject("result");
    } catch (Exception e) {
      throw e instanceof IllegalStateException ise ? ise : new IllegalStateException(method + " failed: " + e, e);
    }
  }

  public void navigate(String url) {
    call("Page.navigate", new JsonObject().put("url", url));
    waitFor("location.href !== 'about:blank' && document.readyState === 'complete'", TIMEOUT_S, "page " + url + " loaded");
  }

  /** The value of a JavaScript expression in the page (promises awaited). */
  public Object eval(String expression) {
    JsonObject result = call("Runtime.evaluate", new JsonObject().put("expression", expression)
        .put("returnByValue", true).put("awaitPromise", true));
    if (result.containsKey("exceptionDetails")) {
      throw new IllegalStateException("script failed: " + expression + ": " + result.getJsonObject("exceptionDetails").encode());
    }
    return result.getJsonObject("result").getValue("value");
  }

  /** Waits until the expression is truthy in the page; fails naming {@code what} and the page's text. */
  public void waitFor(String expression, long seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      Object value = eval("!!(" + expression + ")");
      if (Boolean.TRUE.equals(value)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + what + "; page text: "
            + eval("document.body ? document.body.innerText.slice(0, 2000) : ''") + "; console: " + console);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** A PNG of the whole page, kept as a test artefact. */
  public Path screenshot(Path file) throws IOException {
    JsonObject shot = call("Page.captureScreenshot", new JsonObject().put("format", "png").put("captureBeyondViewport", true));
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(shot.getString("data")));
    return file;
  }

  /** What the page logged and threw so far. */
  public List<String> console() {
    return List.copyOf(console);
  }

  @Override
  public void close() {
    socket.abort();
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    deleteQuietly(profile);
  }

  private static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary profile; the test's folder goes anyway
    }
  }
}
