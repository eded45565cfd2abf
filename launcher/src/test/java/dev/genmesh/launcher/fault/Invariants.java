package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.SoftAssertions;

/**
 * The invariants every fault test checks over every request it got {@code 202} for
 * (DESIGN.md): I1, each reaches {@code completed}, {@code failed} with a reason, or
 * {@code cancelled}; I3, none has more than one {@code completed} event, and a completed one
 * has its images.
 */
final class Invariants {
  private static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

  private final Set<String> acknowledged = new LinkedHashSet<>();

  /** Records an answer to a submit: a {@code 202} puts its id under the invariants. Returns the id, or null. */
  synchronized String record(MeshClient.Answer answer) {
    if (answer.status() != 202) {
      return null;
    }
    String id = answer.json().getString("id");
    acknowledged.add(id);
    return id;
  }

  synchronized List<String> acknowledged() {
    return List.copyOf(acknowledged);
  }

  /**
   * Waits until every acknowledged request is terminal and returns the final views. Polling
   * rides over the region being briefly unreachable; the timeout fails the test with the
   * requests still open and their states.
   */
  Map<String, JsonObject> awaitTerminal(MeshClient region, Duration timeout) {
    Map<String, JsonObject> last = new LinkedHashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean allDone = true;
      for (String id : acknowledged()) {
        JsonObject previous = last.get(id);
        if (previous != null && TERMINAL.contains(previous.getString("status"))) {
          continue;
        }
        MeshClient.Answer answer = region.view(id);
        if (answer.status() == 200) {
          last.put(id, answer.json());
        }
        allDone &= answer.status() == 200 && TERMINAL.contains(answer.json().getString("status"));
      }
      if (allDone) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        List<String> open = new ArrayList<>();
        for (String id : acknowledged()) {
          JsonObject view = last.get(id);
          if (view == null || !TERMINAL.contains(view.getString("status"))) {
            open.add(id + " " + (view == null ? "(never answered)" : view.getString("status") + " attempt "
                + view.getValue("attempt") + " worker " + view.getValue("worker")));
          }
        }
        throw new AssertionError("I1: " + open.size() + " of " + acknowledged().size()
            + " acknowledged requests did not finish within " + timeout.toSeconds() + " s: " + open);
      }
      Sleeps.pause(Duration.ofMillis(300));
    }
  }

  /** I1 and I3 over the final views; each completed request's first image is fetched and must be a PNG. */
  void assertHold(MeshClient region, Map<String, JsonObject> finals) {
    SoftAssertions soft = new SoftAssertions();
    for (String id : acknowledged()) {
      JsonObject view = finals.get(id);
      soft.assertThat(view).as("I1: final view of %s", id).isNotNull();
      if (view == null) {
        continue;
      }
      String status = view.getString("status");
      soft.assertThat(status).as("I1: %s is terminal", id).isIn(TERMINAL);
      if ("failed".equals(status)) {
        JsonObject error = view.getJsonObject("error");
        soft.assertThat(error).as("I1: failed %s says why", id).isNotNull();
        if (error != null) {
          soft.assertThat(error.getString("code")).as("I1: error code of %s", id).isNotBlank();
          soft.assertThat(error.getString("message")).as("I1: error message of %s", id).isNotBlank();
        }
      }
      List<JsonObject> events = region.events(id);
      long completedEvents = events.stream().filter(e -> "completed".equals(e.getString("type"))).count();
      soft.assertThat(completedEvents).as("I3: completed events of %s", id).isLessThanOrEqualTo(1);
      if ("completed".equals(status)) {
        soft.assertThat(completedEvents).as("I3: the completion of %s is in its event log", id).isEqualTo(1);
        List<Object> images = view.getJsonArray("images").getList();
        soft.assertThat(images).as("I3: images of completed %s", id).isNotEmpty();
        if (!images.isEmpty()) {
          byte[] png = region.image((String) images.get(0));
          soft.assertThat(Arrays.copyOf(png, 4)).as("I3: first image of %s is a PNG", id).isEqualTo(PNG_MAGIC);
        }
      }
    }
    soft.assertAll();
  }

  /** Every acknowledged request completed (the faults here should cost time, never a request). */
  void assertAllCompleted(Map<String, JsonObject> finals) {
    assertThat(finals.values()).as("final states").allSatisfy(view ->
        assertThat(view.getString("status")).as("%s (error %s)", view.getString("id"), view.getValue("error"))
            .isEqualTo("completed"));
  }
}
