package dev.genmesh.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.failover.Opinion.Verdict;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FenceLeaseTest {
  static final List<String> OBSERVERS = List.of("edge", "eu-west", "us-east");
  static final Duration FENCE = Duration.ofMillis(FailoverConfig.defaults().fenceAfterMs());
  final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T10:00:00Z"));

  @Test
  void aRegionIsFencedUntilAMajorityVotesOkAndAgainWhenTheVotesAgeOut() {
    FenceLease lease = new FenceLease(OBSERVERS, FENCE);
    assertThat(lease.fenced(clock.instant())).as("no votes yet").isTrue();
    Instant sent = clock.instant();
    lease.vote("edge", sent, true);
    assertThat(lease.fenced(clock.instant())).as("one of three").isTrue();
    clock.advanceMs(300); // the second answer is slower: its vote still counts from its send time
    lease.vote("us-east", sent, true);
    assertThat(lease.fenced(clock.instant())).isFalse();
    assertThat(lease.validUntil(clock.instant())).isEqualTo(sent.plus(FENCE));
    clock.set(sent.plus(FENCE).minusMillis(1));
    assertThat(lease.fenced(clock.instant())).isFalse();
    clock.set(sent.plus(FENCE));
    assertThat(lease.fenced(clock.instant())).as("the lease runs from the send time").isTrue();
  }

  @Test
  void anObserverThatSuspectsTheRegionWithdrawsItsVote() {
    FenceLease lease = new FenceLease(OBSERVERS, FENCE);
    lease.vote("edge", clock.instant(), true);
    lease.vote("us-east", clock.instant(), true);
    lease.vote("eu-west", clock.instant(), true);
    clock.advanceMs(1000);
    lease.vote("edge", clock.instant(), false);
    assertThat(lease.fenced(clock.instant())).isFalse();
    lease.vote("us-east", clock.instant(), false);
    assertThat(lease.fenced(clock.instant())).as("only eu-west still holds it ok").isTrue();
  }

  @Test
  void votesOfStrangersDoNotCount() {
    FenceLease lease = new FenceLease(OBSERVERS, FENCE);
    lease.vote("us-west", clock.instant(), true);
    lease.vote("someone", clock.instant(), true);
    lease.vote("edge", clock.instant(), true);
    assertThat(lease.fenced(clock.instant())).isTrue();
  }

  /**
   * The timing argument of docs/architecture.md ("Self-fencing"), played out: us-west is cut off
   * from everyone at a random moment between polls; it fences before any participant can decide it
   * down, whatever the poll phase.
   */
  @Test
  void aRegionCutOffFencesItselfBeforeTheQuorumCanDeclareItDown() {
    FailoverConfig config = FailoverConfig.defaults().withEnabled(true);
    long poll = config.pollIntervalMs();
    for (long cutOffset = 0; cutOffset < poll; cutOffset += 97) {
      Instant start = Instant.parse("2026-12-07T10:00:00Z");
      clock.set(start);
      Quorum quorum = new Quorum(config, QuorumTest.REGIONS, QuorumTest.PARTICIPANTS, start);
      FenceLease lease = new FenceLease(quorum.observersOf("us-west"), Duration.ofMillis(config.fenceAfterMs()));
      Map<String, Map<String, Opinion>> opinions = new HashMap<>();
      Instant cut = start.plusMillis(5 * poll + cutOffset);
      Instant fencedAt = null;
      RegionDecision down = null;
      for (long t = 0; down == null; t += 10) {
        Instant now = start.plusMillis(t);
        clock.set(now);
        boolean polling = t % poll == 0;
        boolean connected = now.isBefore(cut);
        for (String observer : OBSERVERS) {
          if (polling) {
            Opinion before = opinions.computeIfAbsent(observer, o -> new HashMap<>()).get("us-west");
            Verdict verdict = connected ? Verdict.OK : Verdict.SUSPECT;
            Instant since = before != null && before.verdict() == verdict ? before.since() : now;
            opinions.get(observer).put("us-west", new Opinion("us-west", verdict, since, verdict.wireName()));
            if (connected) {
              lease.vote(observer, now, true); // us-west's own fetch of this observer, answered
            }
          }
        }
        if (fencedAt == null && lease.fenced(now)) {
          fencedAt = now;
        }
        List<RegionDecision> decisions = quorum.evaluate(opinions, now);
        if (!decisions.isEmpty()) {
          down = decisions.get(0);
        }
      }
      assertThat(fencedAt).as("fenced (cut at +%d ms)", cutOffset).isNotNull();
      assertThat(Duration.between(fencedAt, down.decidedAt()).toMillis())
          .as("margin between the fence and the decision (cut at +%d ms)", cutOffset)
          .isGreaterThanOrEqualTo(FailoverConfig.MIN_FENCE_MARGIN_MS);
      assertThat(fencedAt).isAfter(cut.minusMillis(config.fenceAfterMs()));
    }
  }
}
