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
import java.util.TreeMap;
import org.assertj.core.api.SoftAssertions;

/**
 * The invariants every fault test checks over every request it got {@code 202} for
 * (docs/architecture.md, "Invariants"): I1, each reaches {@code completed}, {@code failed} with a reason, or
 * {@code cancelled}; I3, a completed request has exactly one image set and one {@code completed}
 * event. Image sets are counted where they live, not only in the request's row: the results the
 * region accepted (entries into {@code safety_pending}, or completions checked before they were
 * written: {@link #acceptedResults}), the images the user is given and
 * can fetch, and, when the test knows the region's bucket, the objects of the attempt that
 * completed (exactly the set served, with those bytes). Other attempts may have left objects of
 * their own keys (never the served ones); the image sweeper deletes them later.
 */
final class Invariants {
  private static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

  private final Set<String> acknowledged = new LinkedHashSet<>();
  private final ImageObjects objects;

  /** Checks through the API only. */
  Invariants() {
    this(null);
  }

  /** @param objects the region's bucket: the objects of the completing attempt are checked too */
  Invariants(ImageObjects objects) {
    this.objects = objects;
  }

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

  /** I1 and I3 over the final views (see the class comment for what counts as an image set). */
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
      List<JsonObject> completions = events.stream().filter(e -> "completed".equals(e.getString("type"))).toList();
      soft.assertThat(completions).as("I3: completed events of %s", id).hasSizeLessThanOrEqualTo(1);
      if ("completed".equals(status)) {
        soft.assertThat(completions).as("I3: the completion of %s is in its event log", id).hasSize(1);
        soft.assertThat(acceptedResults(sinceAdoption(events))).as("I3: image sets of %s the region accepted"
            + " (entries into safety_pending, and completions checked before they were written, since its adoption"
            + " if it was adopted)", id).isEqualTo(1);
        assertOneImageSet(soft, region, view, completions);
      }
    }
    soft.assertAll();
  }

  /**
   * The events after the last {@code region_failover} (all of them if there is none): an adopter
   * runs a request again whatever its state in the replica, so a result its origin had accepted
   * before the loss (in the copied history) is not one the adopter serves.
   */
  static List<JsonObject> sinceAdoption(List<JsonObject> events) {
    for (int i = events.size() - 1; i >= 0; i--) {
      if ("region_failover".equals(events.get(i).getString("type"))) {
        return events.subList(i + 1, events.size());
      }
    }
    return events;
  }

  /**
   * Each result the region accepts either moves the request into {@code safety_pending} (later
   * reasons to wait do not re-enter it) or, checked before it was written, completes it at once: a
   * {@code completed} event that no {@code safety_pending} came before (region-node/SAFETY.md).
   */
  static long acceptedResults(List<JsonObject> events) {
    long entries = 0;
    String previous = null;
    for (JsonObject event : events) {
      String type = event.getString("type");
      if ("safety_pending".equals(type) && !"safety_pending".equals(previous)
          || "completed".equals(type) && !"safety_pending".equals(previous)) {
        entries++;
      }
      previous = type;
    }
    return entries;
  }

  /**
   * The user got one set of {@code batch_size} images: the view and the completion list the same
   * images, each is served as a PNG, and the completing attempt's objects in the bucket are
   * exactly those images, with those bytes.
   */
  private void assertOneImageSet(SoftAssertions soft, MeshClient region, JsonObject view, List<JsonObject> completions) {
    String id = view.getString("id");
    int batch = view.getJsonObject("spec").getInteger("batch_size", 1);
    List<String> images = view.getJsonArray("images").stream().map(String.class::cast).toList();
    soft.assertThat(images).as("I3: images of completed %s", id).hasSize(batch).doesNotHaveDuplicates();
    if (completions.size() == 1 && completions.get(0).getJsonArray("images") != null) {
      soft.assertThat(completions.get(0).getJsonArray("images").getList()).as("I3: the completion of %s lists the"
          + " images the view gives", id).isEqualTo(images);
    }
    Map<String, byte[]> served = new TreeMap<>();
    for (String path : images) {
      byte[] png = region.image(path);
      soft.assertThat(Arrays.copyOf(png, 4)).as("I3: %s is a PNG", path).isEqualTo(PNG_MAGIC);
      served.put(path.substring(path.lastIndexOf('/') + 1), png);
    }
    if (objects == null) {
      return;
    }
    int attempt = view.getInteger("attempt");
    Map<String, byte[]> stored = objects.of(id, attempt);
    soft.assertThat(stored.keySet()).as("I3: objects of the attempt (%d) that completed %s", attempt, id)
        .isEqualTo(served.keySet());
    stored.forEach((name, bytes) -> soft.assertThat(bytes).as("I3: %s of attempt %d of %s in the bucket is the image"
        + " served", name, attempt, id).isEqualTo(served.get(name)));
  }

  /** Every acknowledged request completed (the faults here should cost time, never a request). */
  void assertAllCompleted(Map<String, JsonObject> finals) {
    assertThat(finals.values()).as("final states").allSatisfy(view ->
        assertThat(view.getString("status")).as("%s (error %s)", view.getString("id"), view.getValue("error"))
            .isEqualTo("completed"));
  }

  /**
   * Submits until the region takes one again ({@code 202}; a {@code 503} meanwhile is a store still
   * coming back), then two more that must be taken at once; every answer is recorded.
   */
  void submitUntilAcceptedAgain(MeshClient region, String after, Duration timeout) {
    Sleeps.until("a submit accepted " + after, timeout, () -> {
      MeshClient.Answer answer = region.submit(MeshClient.spec("submitted " + after, 10, 512, 600));
      assertThat(answer.status()).as(answer.body()).isIn(202, 503);
      return record(answer);
    });
    for (int i = 0; i < 2; i++) {
      MeshClient.Answer answer = region.submit(MeshClient.spec("and another " + after + " " + i, 10, 512, 700 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      record(answer);
    }
  }

  /** Waits for every acknowledged request to end, checks the invariants, and that each completed. */
  void awaitAllCompleted(MeshClient region, Duration timeout) {
    Map<String, JsonObject> finals = awaitTerminal(region, timeout);
    assertHold(region, finals);
    assertAllCompleted(finals);
  }
}
