package dev.genmesh.inference.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.registry.BundleCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which cached versions go after a switch: not the running one, not the previous one, not the
 * configured one, and not one another worker sharing the model directory runs or is loading,
 * until that worker stops or its marker goes stale.
 */
class CacheRetentionTest {
  private static final String MODEL = "genmesh-tiny";
  private static final String CONFIGURED = "1.1.0";

  @TempDir Path root;
  private ModelCache cache;

  @BeforeEach
  void emptyCache() {
    cache = new ModelCache(root);
  }

  @Test
  void aSwitchKeepsTheRunningThePreviousAndTheConfiguredVersion() throws Exception {
    cached("0.9", "1", "2", "3", CONFIGURED);
    CacheRetention worker = retention("usw-a", Clock.systemUTC());

    assertThat(worker.retain(MODEL, "3", "2")).containsExactlyInAnyOrder("0.9", "1");

    assertThat(cache.versions(MODEL)).containsExactlyInAnyOrder(CONFIGURED, "2", "3");
    assertThat(marker("usw-a")).containsExactlyInAnyOrder("3", "2");
    assertThat(root.resolve(MODEL)).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith(".evicted"));
  }

  @Test
  void whatAnotherWorkerRunsOrIsLoadingStaysUntilItStops() throws Exception {
    cached("1", "2", "3", "4");
    CacheRetention running = retention("usw-a", Clock.systemUTC());
    CacheRetention other = retention("euw-a", Clock.systemUTC());
    other.using(MODEL, "1"); // runs it
    other.using(MODEL, "2"); // is pulling or loading it

    assertThat(running.retain(MODEL, "4", "3")).isEmpty();
    assertThat(cache.versions(MODEL)).containsExactlyInAnyOrder("1", "2", "3", "4");

    other.release();
    assertThat(running.retain(MODEL, "4", "3")).containsExactlyInAnyOrder("1", "2");
    assertThat(cache.versions(MODEL)).containsExactlyInAnyOrder("3", "4");
  }

  @Test
  void aDeadWorkersMarkerStopsCountingOnceStaleAndALiveWorkerWritesItsAgain() throws Exception {
    cached("1", "3", "4");
    CacheRetention silent = retention("euw-a", Clock.systemUTC());
    silent.using(MODEL, "1");
    Clock later = Clock.offset(Clock.systemUTC(), Duration.ofMillis(CacheRetention.FRESH_MS + 60_000));

    assertThat(retention("usw-a", later).retain(MODEL, "4", "3")).containsExactly("1");
    assertThat(root.resolve(MODEL).resolve(CacheRetention.IN_USE).resolve("euw-a")).doesNotExist();

    silent.refresh(); // it was alive after all: its marker comes back
    assertThat(marker("euw-a")).containsExactly("1");
  }

  private CacheRetention retention(String worker, Clock clock) {
    return new CacheRetention(cache, worker, Map.of(MODEL, CONFIGURED), clock);
  }

  private void cached(String... versions) throws Exception {
    for (String version : versions) {
      Path dir = Files.createDirectories(cache.dir(MODEL, version).resolve("variables"));
      Files.writeString(dir.getParent().resolve(BundleCheck.MANIFEST), "{}");
      Files.writeString(dir.resolve("variables.index"), version);
    }
  }

  private List<String> marker(String worker) throws Exception {
    return Files.readAllLines(root.resolve(MODEL).resolve(CacheRetention.IN_USE).resolve(worker)).stream()
        .filter(line -> !line.isBlank()).toList();
  }
}
