package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The measurement behind docs/reliability.md, not part of the test suite: with the production
 * defaults (heartbeat every 10 s, unhealthy after 3 misses or 30 s, lease 30 s), it kills
 * (SIGKILL) or hangs (SIGSTOP) the worker running a request, trial after trial, and records the
 * time from the fault to the region's verdict (the worker's state change) and to the request's
 * next assignment. Run with
 * {@code ./mvnw -pl launcher -am test -Dtest=ReliabilityTrials -Dsurefire.failIfNoSpecifiedTests=false -Dgenmesh.reliability.trials=20 -Dsurefire.timeout=0};
 * rows go to {@code launcher/target/reliability.csv}. Many trials outlast the suite's time limits
 * (15 min a test, an hour a test JVM): hence its own limit, and no fork limit on the command line.
 */
@EnabledIfSystemProperty(named = "genmesh.reliability.trials", matches = "\\d+")
class ReliabilityTrials {
  private static final int STEPS = 50;
  private static final Pattern SERVING = Pattern.compile("\\[genmesh] worker \\S+ serving region");

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  private ProcessRegion region;
  private MeshClient api;
  private final Map<String, ChildProcess> workers = new LinkedHashMap<>();
  private int nextWorker = 1;

  @Test
  @Timeout(value = 6, unit = TimeUnit.HOURS)
  void measureDetectionAndRedispatch() throws IOException {
    int trials = Integer.getInteger("genmesh.reliability.trials");
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    region = new ProcessRegion(children, dir, stores, 30_000, 10_000);
    region.start(true).clear();
    api = region.client();
    Path out = Path.of(System.getProperty("basedir", "."), "target", "reliability.csv");
    Files.writeString(out, "fault,trial,worker,verdict,detect_ms,redispatch_ms\n");
    for (String fault : List.of("kill", "hang")) {
      for (int trial = 1; trial <= trials; trial++) {
        String row = fault + "," + trial + "," + trial(fault, trial);
        System.out.println("[trial] " + row);
        Files.writeString(out, row + "\n", java.nio.file.StandardOpenOption.APPEND); // kept if a later trial fails
      }
    }
    System.out.println("written to " + out);
  }

  private String trial(String fault, int trial) {
    keepIdleWorkers(2);
    MeshClient.Answer answer = api.submit(MeshClient.spec("trial " + fault + " " + trial, STEPS, 1024, 1000L + trial));
    assertThat(answer.status()).as(answer.body()).isEqualTo(202);
    String id = answer.json().getString("id");
    JsonObject running = Sleeps.until("request " + id + " running", Duration.ofSeconds(60), () -> {
      JsonObject view = api.view(id).json();
      return "generating".equals(view.getString("status")) && lastStep(id) >= 2 ? view : null;
    });
    String victim = running.getString("worker");
    Instant faultAt = Instant.now();
    if (fault.equals("kill")) {
      workers.remove(victim).kill();
    } else {
      workers.get(victim).pause();
    }
    JsonObject verdict = Sleeps.until(victim + " judged lost", Duration.ofSeconds(90), () -> {
      JsonObject state = workerState(victim);
      return state != null && Set.of("gone", "unhealthy").contains(state.getString("state")) ? state : null;
    });
    JsonObject assigned = Sleeps.until(id + " assigned again", Duration.ofSeconds(90), () -> api.events(id).stream()
        .filter(e -> "assigned".equals(e.getString("type")) && Instant.parse(e.getString("time")).isAfter(faultAt))
        .findFirst().orElse(null));
    Sleeps.until(id + " completed", Duration.ofSeconds(120), () ->
        "completed".equals(api.view(id).json().getString("status")) ? true : null);
    if (fault.equals("hang")) {
      workers.remove(victim).kill();
    }
    long detectMs = Duration.between(faultAt, Instant.parse(verdict.getString("since"))).toMillis();
    long redispatchMs = Duration.between(faultAt, Instant.parse(assigned.getString("time"))).toMillis();
    return victim + "," + verdict.getString("state") + "," + detectMs + "," + redispatchMs;
  }

  /** Starts workers until {@code count} are healthy in the region's eyes. */
  private void keepIdleWorkers(int count) {
    List<ChildProcess> started = new ArrayList<>();
    while (workers.size() < count) {
      String id = "w" + nextWorker++;
      ChildProcess worker = region.startWorker(id);
      workers.put(id, worker);
      started.add(worker);
    }
    started.forEach(worker -> worker.awaitLine(SERVING, Duration.ofSeconds(120)));
    Sleeps.until(count + " healthy workers", Duration.ofSeconds(60), () -> workers.keySet().stream()
        .allMatch(id -> {
          JsonObject state = workerState(id);
          return state != null && "healthy".equals(state.getString("state"));
        }) ? true : null);
  }

  private JsonObject workerState(String worker) {
    JsonArray list = api.get("/regional/v1/workers").json().getJsonArray("workers");
    for (int i = 0; i < list.size(); i++) {
      if (worker.equals(list.getJsonObject(i).getString("worker_id"))) {
        return list.getJsonObject(i);
      }
    }
    return null;
  }

  private int lastStep(String id) {
    return api.events(id).stream().filter(e -> "step".equals(e.getString("type")))
        .mapToInt(e -> e.getInteger("step")).max().orElse(0);
  }
}
