package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The region's PostgreSQL (its request log, the truth) stops for a few seconds while work is
 * in flight: submissions get a clear {@code 503} with {@code Retry-After} and are not
 * acknowledged; once it is back they are taken again, and nothing acknowledged before or
 * after is lost.
 */
class PostgresOutageTest {
  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void submissionsGetA503WhileTheLogIsDownAndNothingAcknowledgedIsLost() {
    FaultStores stores = FaultStores.start(dir.resolve("stores"), ProcessRegion.DATABASE);
    children.onCleanup(stores::close);
    ProcessRegion region = new ProcessRegion(children, dir, stores);
    region.start("w1");
    MeshClient api = region.client();
    Invariants invariants = new Invariants(region.imageObjects());

    for (int i = 0; i < 4; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("a quiet library " + i, 30, 768, 400 + i));
      assertThat(answer.status()).as(answer.body()).isEqualTo(202);
      invariants.record(answer);
    }
    Sleeps.until("a request generating", Duration.ofSeconds(90), () -> invariants.acknowledged().stream()
        .map(api::view)
        .anyMatch(a -> a.status() == 200 && "generating".equals(a.json().getString("status"))) ? true : null);

    stores.stopPostgres();
    for (int i = 0; i < 3; i++) {
      MeshClient.Answer answer = api.submit(MeshClient.spec("submitted while the log is down " + i, 10, 512, 500 + i));
      invariants.record(answer); // a 202 now would be a promise the region cannot keep; it is checked like any other
      assertThat(answer.status()).as(answer.body()).isEqualTo(503);
      assertThat(answer.retryAfter()).as("Retry-After").hasValueSatisfying(seconds ->
          assertThat(Integer.parseInt(seconds.trim())).isPositive());
      assertThat(answer.contentType()).startsWith("application/json");
      JsonObject error = answer.json();
      assertThat(error.getString("code")).isEqualTo("storage_unavailable");
      assertThat(error.getString("message")).isNotBlank();
      Sleeps.pause(Duration.ofMillis(500));
    }
    assertThat(api.get("/health/ready").status()).as("readiness while the log is down").isEqualTo(503);
    Sleeps.pause(Duration.ofSeconds(2));
    stores.startPostgres();

    // The pool reconnects on demand; until it has, a submit may still be told to retry.
    invariants.submitUntilAcceptedAgain(api, "after the log is back", Duration.ofSeconds(60));
    invariants.awaitAllCompleted(api, Duration.ofSeconds(150));
  }
}
