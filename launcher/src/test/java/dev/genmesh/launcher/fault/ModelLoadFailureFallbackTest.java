package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5 with real processes: both workers' copy of genmesh-tiny is corrupted (no good version
 * to roll back to), so every load of it fails. The workers still serve genmesh-small, take the
 * genmesh-tiny requests and report {@code model_load_failed}; the model's circuit breaker opens,
 * the requests that allow it move to the fallback model (genmesh-small) and complete there,
 * and the one that does not allow it waits instead of running elsewhere.
 */
class ModelLoadFailureFallbackTest {
  private static final String BREAKERS = """
      breakers:
        model: {failures: 3, successes: 1, open_ms: 600000}
        worker: {failures: 50, successes: 1, open_ms: 30000}
      """;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void aModelWhoseLoadsKeepFailingOpensItsBreakerAndTrafficMovesToTheFallback() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores, BREAKERS);
    region.useDataDir("w1", dataDirWithBrokenTiny("w1"));
    region.useDataDir("w2", dataDirWithBrokenTiny("w2"));
    Map<String, ChildProcess> workers = region.start(true, "w1", "w2");
    MeshClient api = region.client();

    List<String> fallbackAllowed = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      JsonObject spec = MeshClient.spec("a paper boat " + i, 4, 256, 300 + i).put("allow_fallback", true);
      MeshClient.Answer answer = api.submit(spec);
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      fallbackAllowed.add(answer.json().getString("id"));
    }
    MeshClient.Answer strict = api.submit(MeshClient.spec("a paper boat, no substitutes", 4, 256, 399));
    assertThat(strict.status()).isEqualTo(202);
    String strictId = strict.json().getString("id");

    for (String id : fallbackAllowed) {
      JsonObject done = Sleeps.until(id + " completed", Duration.ofSeconds(120), () -> {
        JsonObject view = api.view(id).json();
        return "completed".equals(view.getString("status")) ? view : null;
      });
      assertThat(done.getJsonObject("spec").getString("model")).as("ran on the fallback").isEqualTo("genmesh-small");
    }
    List<JsonObject> movedEvents = api.events(fallbackAllowed.get(fallbackAllowed.size() - 1));
    assertThat(movedEvents).filteredOn(e -> "fallback".equals(e.getString("type"))).singleElement()
        .satisfies(e -> assertThat(e.getString("to")).isEqualTo("genmesh-small"));
    assertThat(api.events(fallbackAllowed.get(0))).extracting(e -> e.getString("type")).contains("completed");

    JsonObject waiting = api.view(strictId).json();
    assertThat(waiting.getJsonObject("spec").getString("model")).isEqualTo("genmesh-tiny");
    assertThat(waiting.getString("status")).as("no fallback allowed: it waits or fails, never runs elsewhere")
        .isIn("queued", "failed");
    assertThat(api.events(strictId)).noneMatch(e -> "fallback".equals(e.getString("type")));
    assertThat(api.get("/metrics").body())
        .contains("genmesh_breaker_state{kind=\"model\",name=\"genmesh-tiny\"");
    assertThat(workers.values()).allMatch(ChildProcess::isAlive);
  }

  /** A data directory with genmesh-small intact and genmesh-tiny with a corrupted weights file. */
  private Path dataDirWithBrokenTiny(String id) {
    Path data = dir.resolve(id + "-data");
    ModelCache.copyInto(data);
    try (var files = Files.walk(data.resolve("models").resolve("genmesh-tiny"))) {
      Path weights = files.filter(f -> f.getFileName().toString().startsWith("variables.data")).findFirst().orElseThrow();
      byte[] bytes = Files.readAllBytes(weights);
      for (int i = 0; i < bytes.length; i += 4096) {
        bytes[i] ^= 0x5a;
      }
      Files.write(weights, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return data;
  }
}
