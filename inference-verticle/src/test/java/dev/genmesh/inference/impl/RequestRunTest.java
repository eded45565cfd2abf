package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class RequestRunTest {
  private static final long MS = 1_000_000L;

  private static RequestRun run() {
    GenerationSpec spec = GenerationSpec.fromJson(new JsonObject().put("prompt", "a lighthouse").put("model", "genmesh-tiny")
        .put("width", 256).put("height", 256).put("steps", 20).put("seed", 1).put("tier", "fast").put("guidance", 7.5));
    return new RequestRun(new WorkerMessages.Assignment("r-1", 0, 60_000, spec));
  }

  @Test
  void remainingTimeFollowsThePaceOfItsOwnSteps() {
    RequestRun run = run();
    assertThat(run.remainingMs()).as("no step yet").isInfinite();
    run.stepped(1, 20, 1_000 * MS);
    assertThat(run.remainingMs()).as("one step gives no pace").isInfinite();
    run.stepped(2, 20, 1_100 * MS);
    run.stepped(3, 20, 1_200 * MS);
    assertThat(run.remainingMs()).as("17 steps left at 100 ms").isEqualTo(1_700.0);
    run.stepped(20, 20, 2_900 * MS);
    assertThat(run.remainingMs()).isZero();
  }

  @Test
  void aControlImageThatIsNotBase64IsAProblemOfTheInputNotAnException() {
    GenerationSpec spec = new GenerationSpec("a ring", "", "genmesh-tiny", Tier.FAST, 256, 256, 3, 9L, 7.5, 1, null, 1.0,
        "%%% not base64", 1.0, 0);
    RequestRun run = new RequestRun(new WorkerMessages.Assignment("r-2", 0, 60_000, spec));
    run.decodeInput();
    assertThat(run.inputProblem()).contains("Illegal base64 character");
    assertThatThrownBy(run::input).isInstanceOf(IllegalArgumentException.class).hasMessage(run.inputProblem());
  }
}
