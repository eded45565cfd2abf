package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole region lost under load and back (issue 13's process-level must-show): three regions,
 * each its own processes and stores ({@link ProcessMesh}), an edge in front, steady submits from
 * several users in every tier; every process of us-west (node, worker, PostgreSQL, Redis, object
 * store) is SIGKILLed mid-load ({@link RegionKillScenario}). Every request that got a {@code 202}
 * completes exactly once (one {@code completed} event, one image set, checked per request where it
 * is served), us-west's queued and running ones in us-east; streams opened before the kill reach
 * {@code completed} through the edge; no submit fails; images us-west completed before the kill are
 * served by the edge from their copies. Then us-west starts again, reconciles and is declared UP:
 * what us-east adopted is never run again in us-west, the edge asked about those ids follows us-west's
 * 307 to us-east (status, events after an id, images, cancel), and new submits return to it.
 * {@code -Dgenmesh.wholeRegion.users=N} and {@code .steps=N} make the load heavier.
 */
class WholeRegionKilledTest {
  private static final Duration WAIT = Duration.ofSeconds(240);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void everyAcknowledgedRequestCompletesOnceThroughTheLossOfAWholeRegionAndItsReturn() throws Exception {
    ProcessMesh mesh = new ProcessMesh(children, dir, 1);
    mesh.start();
    RegionKillScenario scenario = new RegionKillScenario(mesh);
    scenario.awaitSteady();
    RegionKillScenario.Outcome outcome = scenario.run(Integer.getInteger("genmesh.wholeRegion.users", 2),
        Integer.getInteger("genmesh.wholeRegion.steps", 10));
    System.out.printf("[whole region] detection %d ms after the kill (quorum: %d ms), adopted %d queued %d ms after"
        + " the kill, DNS changed %d ms after the kill%n", outcome.detectMs(), outcome.detectionMs(),
        outcome.adopted().size(), outcome.adoptedQueuedMs(), outcome.dnsMs());

    assertThat(outcome.load().failed()).as("submits that failed while two regions lived").isEmpty();
    assertThat(outcome.decision().getString("adopter")).isEqualTo(RegionKillScenario.ADOPTER);
    assertThat(outcome.adopted()).as("us-west's open requests adopted by us-east").isNotEmpty();
    for (String id : outcome.completedBefore()) {
      MeshClient.Answer image = mesh.edge().imageAt(id, 0);
      assertThat(image.status()).as("image of %s (completed before the kill) through the edge, from its copy", id)
          .isEqualTo(200);
    }
    // While us-west is down: every other region's requests, and what us-east adopted (the rest is us-west's,
    // completed before the kill: checked once it is back).
    List<String> live = new ArrayList<>(outcome.load().acknowledged().stream().filter(id -> !id.startsWith("usw_")).toList());
    live.addAll(outcome.adopted());
    RegionKillScenario.awaitEveryRequestDone(mesh, live, WAIT);
    // A request us-west completed at the kill (the replica has it completed, so nobody adopted it) whose completed
    // event the edge had not relayed yet cannot be streamed until us-west is back: the edge gives up (1011) and the
    // client resumes it later, as the API says.
    List<EdgeStream> broken = new ArrayList<>();
    for (EdgeStream stream : outcome.streams()) {
      Sleeps.until(stream.id() + "'s stream through the edge to reach completed (or to be given up)", WAIT,
          () -> stream.completed() || Integer.valueOf(1011).equals(stream.closeCode()) ? true : null);
      if (!stream.completed()) {
        assertThat(adoptedByTheAdopter(mesh, stream.id())).as("%s given up by the edge although us-east answers for it", stream).isFalse();
        broken.add(stream);
        continue;
      }
      assertThat(stream.types()).as("stream %s", stream).containsOnlyOnce("completed");
      List<Long> ids = stream.ids();
      assertThat(ids).as("stream %s: no event lost or repeated across the failover", stream).doesNotHaveDuplicates()
          .isSorted();
    }

    mesh.restart(RegionKillScenario.VICTIM);
    JsonObject up = Sleeps.until("us-west declared UP", WAIT, () -> scenario.upDecision().orElse(null));
    System.out.println("[whole region] UP again: " + up.encode());
    for (EdgeStream stream : broken) {
      long after = stream.ids().isEmpty() ? 0 : stream.ids().get(stream.ids().size() - 1);
      EdgeStream resumed = EdgeStream.open(mesh.edgeUrl(), stream.id(), after);
      Sleeps.until(stream.id() + "'s stream resumed after " + after + " to reach completed", WAIT,
          () -> resumed.completed() ? true : null);
      List<Long> ids = new ArrayList<>(stream.ids());
      ids.addAll(resumed.ids());
      assertThat(resumed.types()).as("resumed stream %s", resumed).containsOnlyOnce("completed");
      assertThat(ids).as("stream %s then %s", stream, resumed).doesNotHaveDuplicates().isSorted();
    }
    for (String id : outcome.adopted()) {
      MeshClient.Answer view = mesh.regional("us-west").view(id);
      assertThat(view.status()).as("us-west on %s, adopted by us-east", id).isEqualTo(307);
      assertThat(view.json().getString("region")).isEqualTo(RegionKillScenario.ADOPTER);
    }
    assertThat(completedIn(mesh, "us-west", outcome.adopted())).as("adopted requests completed in us-west as well").isEmpty();
    RegionKillScenario.assertEdgeAnswersAsTheAdopter(mesh, outcome.adopted(), 3);
    List<String> after = new ArrayList<>();
    Sleeps.until("a submit accepted by us-west again", WAIT, () -> {
      MeshClient.Answer answer = mesh.edge().submit(MeshClient.spec("after the fail-back", 10, 512, 99));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      after.add(answer.json().getString("id"));
      return answer.json().getString("id").startsWith("usw_") ? true : null;
    });
    List<String> everything = new ArrayList<>(outcome.load().acknowledged());
    everything.addAll(after);
    RegionKillScenario.awaitEveryRequestDone(mesh, everything, WAIT);
  }

  /** Whether {@code id} (of us-west) was adopted by us-east: it then answers its stream, the edge never gives it up. */
  private static boolean adoptedByTheAdopter(ProcessMesh mesh, String id) {
    return mesh.regional(RegionKillScenario.ADOPTER).view(id).status() == 200;
  }

  /** Of {@code ids}, those with a completed event in {@code region}'s own log (read from its PostgreSQL). */
  static List<String> completedIn(ProcessMesh mesh, String region, List<String> ids) throws Exception {
    String schema = region.replace('-', '_');
    List<String> completed = new ArrayList<>();
    String url = "jdbc:postgresql://127.0.0.1:" + mesh.region(region).pgPort() + "/" + ProcessMesh.DATABASE;
    try (Connection connection = DriverManager.getConnection(url, "postgres", "");
        PreparedStatement query = connection.prepareStatement("SELECT count(*) FROM " + schema
            + ".request_events WHERE request_id = ? AND type = 'completed'")) {
      for (String id : ids) {
        query.setString(1, id);
        try (ResultSet rows = query.executeQuery()) {
          rows.next();
          if (rows.getLong(1) > 0) {
            completed.add(id);
          }
        }
      }
    }
    return completed;
  }
}
