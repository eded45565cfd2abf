package dev.genmesh.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProtocolJsonTest {
  private final GenerationSpec spec =
      new GenerationSpec("a red fox", "blurry", "genmesh-tiny", Tier.TURBO, 512, 384, 12, 42L, 6.5, 2);

  @Test
  void specRoundTripsWithSnakeCaseNames() {
    JsonObject json = spec.toJson();

    assertThat(json.getString("negative_prompt")).isEqualTo("blurry");
    assertThat(json.getInteger("batch_size")).isEqualTo(2);
    assertThat(json.getString("tier")).isEqualTo("turbo");
    assertThat(GenerationSpec.fromJson(new JsonObject(json.encode()))).isEqualTo(spec);
  }

  @Test
  void workerMessagesRoundTrip() {
    var assignment = new WorkerMessages.Assignment("usw_x", 2, 30_000, spec);
    assertThat(WorkerMessages.Assignment.fromJson(new JsonObject(assignment.toJson().encode()))).isEqualTo(assignment);

    var claim = new WorkerMessages.Claim("w1", "cpu", 8192, List.of("genmesh-tiny"));
    assertThat(WorkerMessages.Claim.fromJson(claim.toJson())).isEqualTo(claim);

    var result = new WorkerMessages.Result("usw_x", 2, "w1", List.of(new byte[] {1, 2, 3}), 12.5);
    var back = WorkerMessages.Result.fromJson(new JsonObject(result.toJson().encode()));
    assertThat(back.pngs()).hasSize(1);
    assertThat(back.pngs().get(0)).containsExactly(1, 2, 3);
  }

  @Test
  void progressEventKeepsTypeFieldsAtTopLevel() {
    var event = new ProgressEvent("usw_x", 3, EventType.STEP, Instant.parse("2026-01-01T00:00:00Z"),
        new JsonObject().put("step", 1).put("total", 4));

    JsonObject json = event.toJson();

    assertThat(json.getString("type")).isEqualTo("step");
    assertThat(json.getLong("id")).isEqualTo(3);
    assertThat(json.getInteger("step")).isEqualTo(1);
    assertThat(ProgressEvent.fromJson(json)).isEqualTo(event);
  }

  @Test
  void requestIdsCarryTheirRegionAndSortByTime() {
    String early = RequestIds.next("usw", 1_000_000L);
    String late = RequestIds.next("usw", 2_000_000L);

    assertThat(RequestIds.regionCode(early)).contains("usw");
    assertThat(early.substring(0, 14)).isLessThan(late.substring(0, 14));
    assertThat(RequestIds.isWellFormed("usw_../../etc")).isFalse();
    assertThat(RequestIds.regionCode("nonsense")).isEmpty();
  }

  @Test
  void tierParsingIsStrictAboutNames() {
    assertThat(Tier.parse("Relax")).contains(Tier.RELAX);
    assertThat(Tier.parse("ultra")).isEmpty();
    assertThat(RequestStatus.COMPLETED.isTerminal()).isTrue();
    assertThat(RequestStatus.GENERATING.isTerminal()).isFalse();
  }
}
