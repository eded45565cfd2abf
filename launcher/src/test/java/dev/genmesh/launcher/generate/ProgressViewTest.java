package dev.genmesh.launcher.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.client.GenerationEvent;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a terminal shows (one line rewritten in place) and what --json gives (the result once). */
class ProgressViewTest {
  private static final List<GenerationEvent> RUN = List.of(
      new GenerationEvent.Queued(1, "usw_1", 3, 4_200L, 0, null, new JsonObject()),
      new GenerationEvent.Started(2, "usw_1", "usw-worker-1", 1, new JsonObject()),
      new GenerationEvent.Step(3, "usw_1", 1, 4, null, new JsonObject()),
      new GenerationEvent.Completed(4, "usw_1", List.of("/v1/images/usw_1/0.png"), new JsonObject()));

  @Test
  void aTerminalGetsOneLineRewrittenWithPositionEtaAndTheStepBar() {
    StringWriter out = new StringWriter();
    ProgressView view = new ProgressView(new PrintWriter(out), ProgressView.Mode.LINE);
    view.accepted("usw_1", "us-west");
    RUN.forEach(view::event);

    String[] frames = out.toString().split("\r");
    assertThat(frames[1]).isEqualTo("usw_1  queued #3, ETA 5 s");
    assertThat(frames[3]).isEqualTo("usw_1  step 1/4 [######------------------] 25%");
    assertThat(frames[4]).as("padded over the longer line before it, then a newline").startsWith("usw_1  completed (1 image)   ")
        .endsWith(System.lineSeparator());
  }

  @Test
  void jsonPrintsTheResultOnceEvenWhenCtrlCAndTheStreamBothReportIt() {
    StringWriter out = new StringWriter();
    ProgressView view = new ProgressView(new PrintWriter(out), ProgressView.Mode.JSON);
    view.result(new JsonObject().put("result", "cancelled").put("id", "usw_1"));
    view.result(new JsonObject().put("result", "cancelled").put("id", "usw_1"));
    view.note("not for machines");
    assertThat(out.toString().lines()).containsExactly("{\"result\":\"cancelled\",\"id\":\"usw_1\"}");
  }
}
