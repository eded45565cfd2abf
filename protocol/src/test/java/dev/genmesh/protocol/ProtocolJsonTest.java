package dev.genmesh.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.scaling.ScalingDecision;
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
    assertThat(claim.toJson().containsKey("wait_ms")).isFalse();
    var waiting = new WorkerMessages.Claim("w1", "cpu", 8192, List.of("genmesh-tiny"), null, 2500);
    assertThat(waiting.toJson().getLong("wait_ms")).isEqualTo(2500L);
    assertThat(WorkerMessages.Claim.fromJson(new JsonObject(waiting.toJson().encode()))).isEqualTo(waiting);

    var stored = new StoredImage("usw_x/2/0.png", 70_123, "0f".repeat(32));
    var result = new WorkerMessages.Result("usw_x", 2, "w1", List.of(stored), 12.5);
    var back = WorkerMessages.Result.fromJson(new JsonObject(result.toJson().encode()));
    assertThat(back).isEqualTo(result);
    assertThat(back.images()).singleElement().satisfies(image -> assertThat(image.isWellFormed()).isTrue());
    assertThat(new StoredImage("k", 0, "0f".repeat(32)).isWellFormed()).isFalse();
    assertThat(new StoredImage("k", 1, "not hex").isWellFormed()).isFalse();
  }

  @Test
  void optionalSpecFieldsAreWrittenOnlyWhenSetAndReadBack() {
    assertThat(spec.toJson().fieldNames()).doesNotContain("adapter", "adapter_scale", "control_image", "control_scale",
        "preview_every");
    var full = new GenerationSpec("a red fox", "", "genmesh-tiny", Tier.FAST, 256, 256, 4, 1L, 7.5, 1,
        "watercolor@1", 0.5, "iVBORw0KGgo=", 0.8, 2);
    JsonObject json = full.toJson();
    assertThat(json.getString("adapter")).isEqualTo("watercolor@1");
    assertThat(json.getDouble("control_scale")).isEqualTo(0.8);
    assertThat(json.getInteger("preview_every")).isEqualTo(2);
    assertThat(GenerationSpec.fromJson(new JsonObject(json.encode()))).isEqualTo(full);
    assertThat(GenerationSpec.fromJson(spec.toJson()).adapterScale()).isEqualTo(GenerationSpec.DEFAULT_ADAPTER_SCALE);
  }

  @Test
  void batchHintMatchesOnlyWhatCanShareATensorFlowBatch() {
    var hint = WorkerMessages.BatchHint.of(spec, 2);
    var claim = new WorkerMessages.Claim("w1", "cpu", 8192, List.of("genmesh-tiny"), hint);
    assertThat(WorkerMessages.Claim.fromJson(new JsonObject(claim.toJson().encode()))).isEqualTo(claim);
    assertThat(new WorkerMessages.Claim("w1", "cpu", 1, List.of()).toJson().containsKey("batch_with")).isFalse();

    var otherPromptAndSeed = new GenerationSpec("an owl", "", "genmesh-tiny", Tier.FAST, 512, 384, 12, 7L, 6.5, 1);
    assertThat(hint.matches(otherPromptAndSeed)).isTrue();
    assertThat(hint.matches(new GenerationSpec("an owl", "", "genmesh-tiny", Tier.FAST, 512, 384, 12, 7L, 6.5, 3)))
        .as("more images than the room left").isFalse();
    assertThat(hint.matches(new GenerationSpec("an owl", "", "genmesh-tiny", Tier.FAST, 512, 384, 13, 7L, 6.5, 1)))
        .as("other step count").isFalse();
    assertThat(hint.matches(new GenerationSpec("an owl", "", "genmesh-tiny", Tier.FAST, 512, 384, 12, 7L, 6.5, 1,
        "watercolor", 1.0, null, 1.0, 0))).as("with an adapter").isFalse();
  }

  @Test
  void newWorkerMessageFieldsRoundTripAndOldMessagesReadWithDefaults() {
    var step = new WorkerMessages.Step("usw_x", 1, "w1", 3, 10, 12.0, "iVBORw0KGgo=");
    assertThat(WorkerMessages.Step.fromJson(step.toJson())).isEqualTo(step);
    assertThat(new WorkerMessages.Step("usw_x", 1, "w1", 3, 10, 12.0).toJson().containsKey("preview")).isFalse();

    var beat = new WorkerMessages.Heartbeat("w1", "us-west", "cpu", 8192, 8000, List.of("genmesh-tiny"), 0.5,
        List.of("usw_x"), 1L, java.util.Map.of("genmesh-tiny", "1.1.0"), false, true, 2, List.of("genmesh-small"), 8190);
    assertThat(WorkerMessages.Heartbeat.fromJson(new JsonObject(beat.toJson().encode()))).isEqualTo(beat);
    JsonObject old = beat.toJson();
    old.remove("ready");
    old.remove("live");
    old.remove("failed_models");
    old.remove("http_port");
    var read = WorkerMessages.Heartbeat.fromJson(old);
    assertThat(read.ready()).isTrue();
    assertThat(read.live()).isTrue();
    assertThat(read.failedModels()).isEmpty();
    assertThat(read.httpPort()).isZero();
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

  @Test
  void scalingDecisionRoundTripsWithItsReasonSignalsAndForecast() {
    var decision = new ScalingDecision(Instant.parse("2026-11-27T10:02:00Z"), "us-west", "L4", 40, 45, "predicted_high",
        ScalingDecision.DRIVER_SCHEDULE, "predicted_load", 0.93, 0.8, 0,
        java.util.Map.of("depth.turbo", 3.0, "predicted_load", 0.93, "ready", 38.0),
        new ScalingDecision.Forecast("schedule", 60.0, 31.5, 1.02, 1_800_000, 37.2, 40),
        java.util.Map.of("sdxl", 4, "other", 1), List.of());

    JsonObject json = new JsonObject(decision.toJson().encode());

    assertThat(json.getString("reason")).isEqualTo("predicted_high");
    assertThat(json.getString("driver")).isEqualTo("schedule");
    assertThat(json.getJsonObject("forecast").getDouble("region_qps")).isEqualTo(60.0);
    assertThat(json.getJsonObject("warm_models").getInteger("sdxl")).isEqualTo(4);
    assertThat(ScalingDecision.fromJson(json)).isEqualTo(decision);
    assertThat(decision.forecast().predictedLoad()).isEqualTo(37.2 / 40);
    assertThat(Addresses.scalingDecisions("us-west")).isEqualTo("genmesh.us-west.scaling.decisions");
  }

  @Test
  void scalingDecisionCarriesNonFiniteValuesAsNull() {
    var decision = new ScalingDecision(Instant.parse("2026-11-27T10:02:00Z"), "us-west", "H100", 0, 1, "replacement",
        ScalingDecision.DRIVER_REPLACEMENT, null, Double.NaN, Double.NaN, 0,
        java.util.Map.of("predicted_load", Double.POSITIVE_INFINITY), null, java.util.Map.of(), List.of());

    JsonObject json = new JsonObject(decision.toJson().encode());

    assertThat(json.getValue("value")).isNull();
    assertThat(json.getJsonObject("signals").getValue("predicted_load")).isNull();
    ScalingDecision back = ScalingDecision.fromJson(json);
    assertThat(back.value()).isNaN();
    assertThat(back.forecast()).isNull();
  }
}
