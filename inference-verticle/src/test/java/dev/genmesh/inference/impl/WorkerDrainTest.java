package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The drain deadline is step-aware: what ends soon finishes, the rest is handed back, and a late finisher too. */
@ExtendWith(VertxExtension.class)
class WorkerDrainTest {
  private static final String ADDRESS = "test.drain";

  /** A worker holding requests: "soon" ends within any grace, "long" never does, until handed back. */
  private static final class Held implements WorkerDrain.Drainable {
    final Set<String> held = new LinkedHashSet<>();
    final List<Double> drainCalls = new ArrayList<>();
    boolean soonStillRunning = true;
    boolean left;

    @Override
    public Set<String> held() {
      return held;
    }

    @Override
    public int drainHeld(double finishWithinMs) {
      drainCalls.add(finishWithinMs);
      held.remove("long"); // handed back at its next step
      if (held.contains("soon") && finishWithinMs > 0) {
        return 1;
      }
      held.remove("soon");
      return 0;
    }

    @Override
    public boolean idle() {
      return held.isEmpty();
    }

    @Override
    public void heartbeat() {}

    @Override
    public void leave() {
      left = true;
    }
  }

  @Test
  void pastTheDeadlineARequestAboutToEndFinishesAndTheOthersGoBack(Vertx vertx, VertxTestContext test) {
    Held worker = new Held();
    worker.held.addAll(List.of("soon", "long"));
    WorkerDrain drain = new WorkerDrain("w-1", 60_000, worker);
    vertx.eventBus().<JsonObject>consumer(ADDRESS, message -> drain.onDrain(vertx, message));
    vertx.eventBus().<JsonObject>request(ADDRESS, new JsonObject().put("worker_id", "w-1").put("deadline_ms", 400))
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.body().getInteger("held")).isEqualTo(2);
          assertThat(drain.draining()).isTrue();
        })));
    vertx.setPeriodic(20, timer -> {
      if (worker.drainCalls.size() == 1 && worker.held.equals(Set.of("soon"))) {
        test.verify(() -> {
          assertThat(worker.drainCalls.get(0)).as("a quarter of the deadline").isEqualTo(100.0);
          assertThat(worker.left).as("still finishing one").isFalse();
        });
        worker.held.remove("soon"); // it finished on its own
        drain.leaveIfIdle();
      }
      if (worker.left) {
        vertx.cancelTimer(timer);
        test.verify(() -> assertThat(worker.drainCalls).hasSizeBetween(1, 2));
        test.completeNow();
      }
    });
  }

  @Test
  void aRequestStillRunningAfterTheGraceIsHandedBackToo(Vertx vertx, VertxTestContext test) {
    Held worker = new Held();
    worker.held.add("soon");
    WorkerDrain drain = new WorkerDrain("w-2", 200, worker);
    vertx.eventBus().<JsonObject>consumer(ADDRESS, message -> drain.onDrain(vertx, message));
    vertx.eventBus().request(ADDRESS, null);
    vertx.setPeriodic(20, timer -> {
      if (worker.left) {
        vertx.cancelTimer(timer);
        test.verify(() -> {
          assertThat(worker.drainCalls).as("deadline (default 200 ms), then after its 50 ms grace").containsExactly(50.0, 0.0);
          assertThat(worker.held).isEmpty();
        });
        test.completeNow();
      }
    });
  }
}
