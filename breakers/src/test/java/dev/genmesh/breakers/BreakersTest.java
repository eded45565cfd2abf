package dev.genmesh.breakers;

import static dev.genmesh.breakers.BreakerState.CLOSED;
import static dev.genmesh.breakers.BreakerState.HALF_OPEN;
import static dev.genmesh.breakers.BreakerState.OPEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.protocol.FailureType;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Assignment;
import dev.genmesh.protocol.WorkerMessages.Claim;
import dev.genmesh.testkit.ManualClock;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The board: which outcomes count where, claims narrowed and refused, shedding, and its listeners. */
class BreakersTest {
  private static final String TINY = "genmesh-tiny";
  private static final String SMALL = "genmesh-small";
  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-27T10:00:00Z"));
  private final Breakers board = new Breakers(new BreakerConfig(new BreakerConfig.Breaker(5, 3, 60_000, 1),
      new BreakerConfig.Breaker(3, 2, 30_000, 1), new BreakerConfig.GlobalBreaker(0.10, 60_000, 20, 10_000)),
      List.of(TINY, SMALL), clock);
  private final List<BreakerTransition> transitions = new ArrayList<>();
  private final List<Set<Tier>> shedding = new ArrayList<>();

  BreakersTest() {
    board.addListener(new BreakerListener() {
      @Override
      public void changed(BreakerTransition transition) {
        transitions.add(transition);
      }

      @Override
      public void shedding(Set<Tier> tiers, double failureRate, Instant at) {
        shedding.add(tiers);
      }
    });
  }

  private void failModel(String model, int times, String type) {
    for (int i = 0; i < times; i++) {
      board.failed("m" + i, model, "w-" + model + "-" + i, type, false); // a different worker each time
    }
  }

  private static Claim claim(String worker, String... models) {
    return new Claim(worker, "cpu", 8192, List.of(models));
  }

  private static Assignment assignment(String id, String model) {
    return new Assignment(id, 1, 30_000,
        new GenerationSpec("p", "", model, Tier.FAST, 512, 512, 3, 1, 7.5, 1));
  }

  @Test
  void modelFailuresOpenTheModelBreakerAndAreAnnouncedOnce() {
    failModel(TINY, 5, FailureType.MODEL_CORRUPTED);

    assertThat(board.modelState(TINY)).isEqualTo(OPEN);
    assertThat(board.modelState(SMALL)).isEqualTo(CLOSED);
    assertThat(board.openModels()).containsExactly(TINY);
    assertThat(transitions).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(BreakerKind.MODEL);
      assertThat(t.name()).isEqualTo(TINY);
      assertThat(t.from()).isEqualTo(CLOSED);
      assertThat(t.to()).isEqualTo(OPEN);
      assertThat(t.at()).isEqualTo(clock.instant());
      assertThat(t.reason()).contains("5 failure(s) in a row").contains("model_corrupted");
      JsonObject alert = t.toAlert("us-west");
      assertThat(alert.getString("type")).isEqualTo("breaker");
      assertThat(alert.getString("region")).isEqualTo("us-west");
      assertThat(alert.getString("kind")).isEqualTo("model");
      assertThat(alert.getString("name")).isEqualTo(TINY);
      assertThat(alert.getString("from")).isEqualTo("closed");
      assertThat(alert.getString("to")).isEqualTo("open");
      assertThat(alert.getString("at")).isEqualTo(clock.instant().toString());
    });
  }

  @Test
  void oomCountsForTheWorkerOnlyAndCancelledForNothing() {
    for (int i = 0; i < 5; i++) {
      board.failed("r" + i, TINY, "w1", FailureType.OOM, false);
    }
    assertThat(board.modelState(TINY)).isEqualTo(CLOSED);
    assertThat(board.workerState("w1")).isEqualTo(OPEN);

    for (int i = 0; i < 10; i++) {
      board.failed("c" + i, SMALL, "w2", FailureType.CANCELLED, false);
    }
    assertThat(board.modelState(SMALL)).isEqualTo(CLOSED);
    assertThat(board.workerState("w2")).isEqualTo(CLOSED);
  }

  @Test
  void lostLeasesGpuErrorsAndUnknownTypesCountForModelAndWorker() {
    board.failed("a", TINY, "w1", FailureType.LEASE_LOST, false);
    board.failed("b", TINY, "w1", FailureType.GPU_ERROR, false);
    board.failed("c", TINY, "w1", "model_load_failed", false);

    assertThat(board.workerState("w1")).isEqualTo(OPEN);
    board.failed("d", TINY, "w2", FailureType.ERROR, false);
    assertThat(board.modelState(TINY)).isEqualTo(CLOSED);
    board.failed("e", TINY, "w3", null, false);
    assertThat(board.modelState(TINY)).as("5 in a row across workers").isEqualTo(OPEN);
  }

  @Test
  void aClaimLosesTheModelsWhoseBreakerIsOpen() {
    failModel(TINY, 5, FailureType.ERROR);

    Optional<ClaimAdmission> both = board.admit(claim("w", TINY, SMALL));
    assertThat(both).get().extracting(a -> a.claim().models()).isEqualTo(List.of(SMALL));
    both.get().settle(null);

    assertThat(board.admit(claim("w", TINY))).as("nothing left to run: no work").isEmpty();
  }

  @Test
  void aClaimForAnyModelIsNarrowedOnlyWhileSomeBreakerIsNotClosed() {
    Optional<ClaimAdmission> any = board.admit(claim("w"));
    assertThat(any).get().extracting(a -> a.claim().models()).isEqualTo(List.of());

    failModel(SMALL, 5, FailureType.ERROR);

    assertThat(board.admit(claim("w"))).get().extracting(a -> a.claim().models()).isEqualTo(List.of(TINY));
  }

  @Test
  void halfOpenModelGoesToOneClaimAtATimeUntilItsTrialReports() {
    failModel(TINY, 5, FailureType.ERROR);
    clock.advanceMs(60_000);

    ClaimAdmission first = board.admit(claim("w1", TINY, SMALL)).orElseThrow();
    assertThat(first.claim().models()).containsExactly(TINY, SMALL);
    assertThat(board.admit(claim("w2", TINY, SMALL)).orElseThrow().claim().models())
        .as("the one trial slot is reserved by the first claim").containsExactly(SMALL);

    first.settle(assignment("trial-1", TINY));
    assertThat(board.admit(claim("w3", TINY)))
        .as("the trial runs: no second one").isEmpty();

    board.succeeded("trial-1", TINY, "w1");
    ClaimAdmission next = board.admit(claim("w3", TINY)).orElseThrow();
    assertThat(next.claim().models()).containsExactly(TINY);
    next.settle(null);
    assertThat(board.admit(claim("w4", TINY))).as("a claim that got nothing gives its slot back").isPresent();
  }

  @Test
  void aClaimThatTookAnotherModelGivesTheTrialSlotBack() {
    failModel(TINY, 5, FailureType.ERROR);
    clock.advanceMs(60_000);

    board.admit(claim("w1", TINY, SMALL)).orElseThrow().settle(assignment("r", SMALL));

    assertThat(board.admit(claim("w2", TINY))).isPresent();
  }

  @Test
  void threeTrialSuccessesCloseTheModelAndATrialFailureReopensIt() {
    failModel(TINY, 5, FailureType.ERROR);
    clock.advanceMs(60_000);
    board.tick();
    for (int i = 0; i < 3; i++) {
      ClaimAdmission trial = board.admit(claim("w", TINY)).orElseThrow();
      trial.settle(assignment("t" + i, TINY));
      board.succeeded("t" + i, TINY, "w");
    }
    assertThat(board.modelState(TINY)).isEqualTo(CLOSED);

    failModel(TINY, 5, FailureType.ERROR);
    clock.advanceMs(60_000);
    board.admit(claim("w", TINY)).orElseThrow().settle(assignment("t9", TINY));
    board.failed("t9", TINY, "w9", FailureType.ERROR, false);
    assertThat(board.modelState(TINY)).isEqualTo(OPEN);

    assertThat(transitions).extracting(t -> t.from().wireName() + "->" + t.to().wireName())
        .containsExactly("closed->open", "open->half_open", "half_open->closed", "closed->open", "open->half_open",
            "half_open->open");
  }

  @Test
  void anOpenWorkerGetsNoClaimsThenOneAtATimeWhileHalfOpenAndTwoSuccessesCloseIt() {
    for (int i = 0; i < 3; i++) {
      board.failed("r" + i, i % 2 == 0 ? TINY : SMALL, "w1", FailureType.GPU_ERROR, false);
    }
    assertThat(board.admit(claim("w1", TINY, SMALL))).isEmpty();
    assertThat(board.admit(claim("w2", TINY, SMALL))).as("other workers claim as before").isPresent();

    clock.advanceMs(30_000);
    ClaimAdmission trial = board.admit(claim("w1", TINY)).orElseThrow();
    assertThat(board.admit(claim("w1", TINY))).as("one trial at a time").isEmpty();
    trial.settle(assignment("t1", TINY));
    board.succeeded("t1", TINY, "w1");
    board.admit(claim("w1", TINY)).orElseThrow().settle(assignment("t2", TINY));
    board.succeeded("t2", TINY, "w1");

    assertThat(board.workerState("w1")).isEqualTo(CLOSED);
    assertThat(transitions).extracting(t -> t.kind() + " " + t.name() + " " + t.to())
        .containsExactly("WORKER w1 OPEN", "WORKER w1 HALF_OPEN", "WORKER w1 CLOSED");
  }

  @Test
  void theGlobalBreakerShedsRelaxThenFastNeverTurbo() {
    for (int i = 0; i < 85; i++) {
      board.succeeded("s" + i, TINY, "w" + (i % 7));
    }
    for (int i = 0; i < 15; i++) {
      board.failed("f" + i, TINY + i, "x" + i, FailureType.OOM, false); // spread over models and workers
    }
    assertThat(board.globalState()).isEqualTo(OPEN);
    assertThat(board.shed(Tier.RELAX)).get().satisfies(o -> {
      assertThat(o.retryAfterSeconds()).isEqualTo(10);
      assertThat(o.getMessage()).contains("relax");
    });
    assertThat(board.shed(Tier.FAST)).isEmpty();
    assertThat(board.shed(Tier.TURBO)).isEmpty();

    for (int i = 0; i < 20; i++) {
      board.failed("g" + i, SMALL + i, "y" + i, FailureType.ERROR, false);
    }
    assertThat(board.shed(Tier.FAST)).isPresent();
    assertThat(board.shed(Tier.TURBO)).isEmpty();
    assertThat(shedding).containsExactly(Set.of(Tier.RELAX), Set.of(Tier.RELAX, Tier.FAST));
    assertThat(transitions).filteredOn(t -> t.kind() == BreakerKind.GLOBAL)
        .extracting(t -> t.name() + " " + t.to()).containsExactly("global OPEN");
  }

  @Test
  void retriedFailuresCountForTheirWorkerAndModelButNotForTheRegion() {
    for (int i = 0; i < 17; i++) {
      board.succeeded("s" + i, TINY, "w" + (i % 7));
    }
    // A worker that cannot load the model refuses three requests, each retried elsewhere; a killed worker's lease lapses.
    for (int i = 0; i < 3; i++) {
      board.failed("r" + i, TINY, "broken", "model_load_failed", true);
    }
    board.failed("k", TINY, "killed", FailureType.LEASE_LOST, true);

    assertThat(board.workerState("broken")).as("the worker's own breaker sees every refusal").isEqualTo(OPEN);
    assertThat(board.globalFailureRate()).as("no request failed").isZero();
    assertThat(board.shed(Tier.RELAX)).isEmpty();

    // The same four failing for good: 4 of 21 requests, above 10 %.
    for (int i = 0; i < 4; i++) {
      board.failed("x" + i, TINY, "w" + i, FailureType.ERROR, false);
    }
    assertThat(board.globalState()).isEqualTo(OPEN);
    assertThat(board.shed(Tier.RELAX)).isPresent();
  }

  @Test
  void cancelledFreesATrialSlotWithoutEvidence() {
    failModel(TINY, 5, FailureType.ERROR);
    clock.advanceMs(60_000);
    board.admit(claim("w", TINY)).orElseThrow().settle(assignment("t", TINY));
    assertThat(board.admit(claim("w", TINY))).isEmpty();

    board.failed("t", TINY, "w", FailureType.CANCELLED, false);

    assertThat(board.modelState(TINY)).isEqualTo(HALF_OPEN);
    assertThat(board.admit(claim("w", TINY))).isPresent();
  }

  @Test
  void listenersAreCalledOutsideTheLockAndMayAskTheBoard() {
    List<BreakerState> seen = new ArrayList<>();
    board.addListener(t -> seen.add(board.modelState(t.name())));

    failModel(TINY, 5, FailureType.ERROR);

    assertThat(seen).containsExactly(OPEN);
  }

  @Test
  void aFailingListenerDoesNotStopTheOthers() {
    List<String> after = new ArrayList<>();
    Breakers fresh = new Breakers(board.config(), List.of(TINY), clock);
    fresh.addListener(t -> {
      throw new IllegalStateException("boom");
    });
    fresh.addListener(t -> after.add(t.name()));

    for (int i = 0; i < 3; i++) {
      fresh.failed("r" + i, TINY, "w", FailureType.ERROR, false);
    }

    assertThat(after).containsExactly("w");
  }

  @Test
  void tickTurnsOpenBreakersHalfOpenAndForgetsHealthyWorkers() {
    board.failed("r", TINY, "w1", FailureType.ERROR, false);
    board.succeeded("s", TINY, "w1");
    for (int i = 0; i < 3; i++) {
      board.failed("q" + i, SMALL, "w2", FailureType.ERROR, false);
    }
    clock.advanceMs(30_000);

    board.tick();

    assertThat(transitions).extracting(t -> t.name() + " " + t.to()).containsExactly("w2 OPEN", "w2 HALF_OPEN");
    assertThat(board.workerState("w1")).isEqualTo(CLOSED);
  }
}
