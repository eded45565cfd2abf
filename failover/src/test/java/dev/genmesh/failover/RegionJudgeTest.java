package dev.genmesh.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.failover.Opinion.Verdict;
import dev.genmesh.failover.RegionJudge.Probe;
import dev.genmesh.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RegionJudgeTest {
  final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T10:00:00Z"));
  final RegionJudge judge = new RegionJudge("us-west", Duration.ofSeconds(60));

  Opinion probe(boolean answered, boolean ready, long queued, String progress) {
    return judge.judge(new Probe(answered, ready, queued, progress, answered ? "postgres down" : "connection refused"),
        clock.instant());
  }

  @Test
  void anIdleRegionIsNeverSuspect() {
    for (int i = 0; i < 100; i++) {
      assertThat(probe(true, true, 0, "").verdict()).isEqualTo(Verdict.OK);
      clock.advanceMs(10_000);
    }
  }

  @Test
  void queuedWorkWithoutADispatchForStallAfterIsSuspectUntilADispatch() {
    Instant start = clock.instant();
    assertThat(probe(true, true, 5, "100-0").verdict()).isEqualTo(Verdict.OK);
    clock.advanceMs(59_999);
    assertThat(probe(true, true, 5, "100-0").verdict()).isEqualTo(Verdict.OK);
    clock.advanceMs(1);
    Opinion stalled = probe(true, true, 5, "100-0");
    assertThat(stalled.verdict()).isEqualTo(Verdict.SUSPECT);
    assertThat(stalled.reason()).contains("stalled").contains("5 queued");
    assertThat(stalled.since()).isEqualTo(start.plusSeconds(60));
    clock.advanceMs(1000);
    Opinion moving = probe(true, true, 4, "101-0");
    assertThat(moving.verdict()).isEqualTo(Verdict.OK);
    assertThat(moving.since()).isEqualTo(clock.instant());
  }

  @Test
  void aDispatchEveryFewSecondsKeepsABusyRegionOk() {
    for (int i = 0; i < 100; i++) {
      assertThat(probe(true, true, 500, "tok-" + (i / 5)).verdict()).isEqualTo(Verdict.OK);
      clock.advanceMs(10_000);
    }
  }

  @Test
  void noAnswerOrStoresNotReadyIsSuspectAtOnceAndTheSinceHolds() {
    Instant first = clock.instant();
    Opinion gone = probe(false, false, 0, "");
    assertThat(gone.verdict()).isEqualTo(Verdict.SUSPECT);
    assertThat(gone.reason()).contains("no answer");
    clock.advanceMs(1000);
    Opinion notReady = probe(true, false, 0, "");
    assertThat(notReady.reason()).contains("not ready: postgres down");
    assertThat(notReady.since()).as("still suspect since the first failure").isEqualTo(first);
  }

  @Test
  void aRegionHeldDownIsJudgedByReadinessAloneSoThatItCanComeBack() {
    probe(true, true, 5, "100-0");
    clock.advanceMs(120_000);
    assertThat(probe(true, true, 5, "100-0").verdict()).isEqualTo(Verdict.SUSPECT);
    clock.advanceMs(1000);
    Opinion whileDown = judge.judge(new Probe(true, true, 5, "100-0", ""), clock.instant(), false);
    assertThat(whileDown.verdict()).as("fenced and adopted from: it may not dispatch").isEqualTo(Verdict.OK);
    clock.advanceMs(30_000);
    assertThat(probe(true, true, 5, "100-0").verdict()).as("the stall clock restarted when it was judged by readiness")
        .isEqualTo(Verdict.OK);
  }

  @Test
  void aRegionNotSeenReadyYetIsNotSuspectedDuringTheStartUpGraceButOnceSeenItIs() {
    RegionJudge starting = new RegionJudge("us-east", Duration.ofSeconds(60), Duration.ofSeconds(120));
    Probe refused = new Probe(false, false, 0, "", "connection refused");
    Probe ready = new Probe(true, true, 0, "", "");
    assertThat(starting.judge(refused, clock.instant()).verdict()).as("just started").isEqualTo(Verdict.OK);
    clock.advanceMs(119_999);
    assertThat(starting.judge(refused, clock.instant()).verdict()).as("still within the grace").isEqualTo(Verdict.OK);
    clock.advanceMs(1);
    assertThat(starting.judge(refused, clock.instant()).verdict()).as("never came up: past the grace")
        .isEqualTo(Verdict.SUSPECT);

    RegionJudge seen = new RegionJudge("eu-west", Duration.ofSeconds(60), Duration.ofSeconds(120));
    assertThat(seen.judge(ready, clock.instant()).verdict()).isEqualTo(Verdict.OK);
    clock.advanceMs(1000);
    assertThat(seen.judge(refused, clock.instant()).verdict()).as("seen ready once: no grace any more")
        .isEqualTo(Verdict.SUSPECT);
  }
}
