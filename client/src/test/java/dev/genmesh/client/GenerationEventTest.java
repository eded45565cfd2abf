package dev.genmesh.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Frames as region-node/API.md ("Event frames") documents them, typed; unknown types pass through. */
class GenerationEventTest {
  private static GenerationEvent parse(String json) {
    return GenerationEvent.parse(new JsonObject(json));
  }

  @Test
  void eachDocumentedFrameBecomesItsType() {
    assertThat(parse("{\"id\":1,\"request_id\":\"usw_1\",\"type\":\"queued\",\"time\":\"t\",\"queue_position\":4,\"position\":4,\"eta_ms\":9000}"))
        .isEqualTo(new GenerationEvent.Queued(1, "usw_1", 4, 9000L, 0, null,
            new JsonObject("{\"id\":1,\"request_id\":\"usw_1\",\"type\":\"queued\",\"time\":\"t\",\"queue_position\":4,\"position\":4,\"eta_ms\":9000}")));
    assertThat(parse("{\"id\":5,\"request_id\":\"usw_1\",\"type\":\"queued\",\"queue_position\":null,\"eta_ms\":null,"
        + "\"retry_count\":2,\"reason\":\"lease_lost\"}"))
        .isInstanceOfSatisfying(GenerationEvent.Queued.class, q -> {
          assertThat(q.position()).isNull();
          assertThat(q.retryCount()).isEqualTo(2);
          assertThat(q.reason()).isEqualTo("lease_lost");
        });
    assertThat(parse("{\"id\":3,\"request_id\":\"usw_1\",\"type\":\"step\",\"step\":2,\"total\":8,\"preview\":\"iVBORw==\"}"))
        .isInstanceOfSatisfying(GenerationEvent.Step.class, s -> {
          assertThat(s.step()).isEqualTo(2);
          assertThat(s.total()).isEqualTo(8);
          assertThat(s.preview()).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        });
    assertThat(parse("{\"id\":6,\"request_id\":\"usw_1\",\"type\":\"region_failover\",\"from\":\"us-west\",\"to\":\"us-east\","
        + "\"reason\":\"region down\",\"queue_position\":2,\"eta_ms\":1500}"))
        .isInstanceOfSatisfying(GenerationEvent.RegionFailover.class, f -> {
          assertThat(f.to()).isEqualTo("us-east");
          assertThat(f.position()).isEqualTo(2);
          assertThat(f.isTerminal()).isFalse();
        });
    assertThat(parse("{\"id\":9,\"request_id\":\"usw_1\",\"type\":\"failed\",\"code\":\"safety_blocked\",\"message\":\"no\"}"))
        .isInstanceOfSatisfying(GenerationEvent.Failed.class, f -> {
          assertThat(f.code()).isEqualTo("safety_blocked");
          assertThat(f.isTerminal()).isTrue();
        });
    assertThat(parse("{\"id\":9,\"request_id\":\"usw_1\",\"type\":\"completed\",\"images\":[\"/v1/images/usw_1/0.png\"]}"))
        .isInstanceOfSatisfying(GenerationEvent.Completed.class, c -> assertThat(c.images()).containsExactly("/v1/images/usw_1/0.png"));
    assertThat(parse("{\"id\":2,\"request_id\":\"usw_1\",\"type\":\"assigned\",\"worker\":\"usw-worker-1\",\"attempt\":1}"))
        .isInstanceOfSatisfying(GenerationEvent.Started.class, s -> assertThat(s.type()).isEqualTo("assigned"));
  }

  @Test
  void aTypeNewerThanTheClientArrivesAsOther() {
    GenerationEvent event = parse("{\"id\":7,\"request_id\":\"usw_1\",\"type\":\"teleported\",\"to\":\"mars\"}");
    assertThat(event).isInstanceOf(GenerationEvent.Other.class);
    assertThat(event.type()).isEqualTo("teleported");
    assertThat(event.json().getString("to")).isEqualTo("mars");
    assertThat(event.isTerminal()).isFalse();
  }
}
