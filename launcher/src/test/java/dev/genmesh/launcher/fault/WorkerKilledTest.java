package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker process is SIGKILLed while it generates: the region notices (it leaves the cluster, or
 * its lease lapses), puts the request back in its queue, and the other worker completes it, once.
 *
 * <p>Not in the suite: {@link WorkerLostTest}'s killed worker shows the same (the survivor completes
 * it once, the killed worker's attempt leaves no objects) with a bound on the time it takes. Run it
 * with {@code -Dgenmesh.faultRepeats=true} (README, "Tests").
 */
@EnabledIfSystemProperty(named = "genmesh.faultRepeats", matches = "true",
    disabledReason = "WorkerLostTest shows it; -Dgenmesh.faultRepeats=true runs it")
class WorkerKilledTest {
  private static final int STEPS = 50;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void theRequestOfAKilledWorkerCompletesOnTheOtherWorkerExactlyOnce() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores);
    Map<String, ChildProcess> workers = region.start("w1", "w2");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    // Long enough (50 steps at 1024 px, seconds each here) that one is surely caught mid-generation.
    for (int i = 0; i < 4; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("a lighthouse in a storm " + i, STEPS, 1024, 100 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      String id = invariants.record(answer);
    }
    // Early in its steps, so that the kill cannot race the hand-in of its result.
    JsonObject running = api.awaitEarlyRun(invariants.acknowledged(), workers.keySet(), STEPS, Duration.ofSeconds(90));
    String victim = running.getString("id");
    String killed = running.getString("worker");
    String survivor = killed.equals("w1") ? "w2" : "w1";
    workers.get(killed).kill();

    Map<String, JsonObject> finals = invariants.awaitTerminal(api, Duration.ofSeconds(180));
    invariants.assertHold(api, finals);
    invariants.assertAllCompleted(finals);

    JsonObject view = finals.get(victim);
    assertThat(view.getString("worker")).as("worker that completed %s", victim).isEqualTo(survivor);
    assertThat(view.getInteger("attempt")).as("attempt that completed %s", victim).isGreaterThan(running.getInteger("attempt"));
    List<JsonObject> events = api.events(victim);
    assertThat(events).filteredOn(e -> "assigned".equals(e.getString("type")))
        .extracting(e -> e.getString("worker")).startsWith(killed).endsWith(survivor);
    assertThat(events).filteredOn(e -> "completed".equals(e.getString("type"))).hasSize(1);
    assertThat(events.get(events.size() - 1).getString("type")).isEqualTo("completed");
    assertThat(workers.get(survivor).isAlive()).isTrue();
    finals.forEach((id, done) -> assertThat(region.imageObjects().attempts(id))
        .as("attempts of %s with objects: the one that completed (the killed worker uploaded nothing)", id)
        .containsExactly(done.getInteger("attempt")));
  }

}
