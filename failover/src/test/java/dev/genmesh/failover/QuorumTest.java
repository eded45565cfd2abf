package dev.genmesh.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.failover.Opinion.Verdict;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.protocol.failover.RegionDecision.State;
import dev.genmesh.testkit.ManualClock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuorumTest {
  static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");
  static final List<String> PARTICIPANTS = List.of("us-west", "us-east", "eu-west", "edge");
  static final FailoverConfig CONFIG = FailoverConfig.defaults().withEnabled(true);
  static final long DETECT = CONFIG.detectAfterMs();
  static final long FAILBACK = CONFIG.failbackAfterMs();

  final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T10:00:00Z"));
  final Instant t0 = clock.instant();
  final Map<String, Map<String, Opinion>> opinions = new HashMap<>();

  Quorum quorum() {
    return new Quorum(CONFIG, REGIONS, PARTICIPANTS, t0);
  }

  void opinion(String observer, String region, Verdict verdict, Instant since) {
    opinions.computeIfAbsent(observer, o -> new HashMap<>()).put(region, new Opinion(region, verdict, since, verdict + " by " + observer));
  }

  /** A quorum over opinions where everyone sees every region ok, except these observers, who suspect {@code region}. */
  Quorum suspectedBy(String region, Instant since, String... observers) {
    everyoneSeesEveryRegionOk();
    for (String observer : observers) {
      opinion(observer, region, Verdict.SUSPECT, since);
    }
    return quorum();
  }

  void everyoneSeesEveryRegionOk() {
    for (String observer : PARTICIPANTS) {
      for (String region : REGIONS) {
        if (!observer.equals(region)) {
          opinion(observer, region, Verdict.OK, t0);
        }
      }
    }
  }

  @Test
  void oneObserversBadLinkDecidesNothing() {
    Quorum quorum = quorum();
    everyoneSeesEveryRegionOk();
    opinion("eu-west", "us-west", Verdict.SUSPECT, t0);
    for (int i = 0; i < 10; i++) {
      clock.advanceMs(DETECT);
      assertThat(quorum.evaluate(opinions, clock.instant())).isEmpty();
    }
    assertThat(quorum.state("us-west")).isEqualTo(State.UP);
  }

  @Test
  void aMajoritySuspectingForDetectAfterDeclaresTheRegionDownWithItsRingPeerAsAdopter() {
    Quorum quorum = quorum();
    everyoneSeesEveryRegionOk();
    opinion("edge", "us-west", Verdict.SUSPECT, t0);
    opinion("eu-west", "us-west", Verdict.SUSPECT, t0.plusMillis(400));
    clock.set(t0.plusMillis(400 + DETECT - 1));
    assertThat(quorum.evaluate(opinions, clock.instant())).as("one millisecond early").isEmpty();
    clock.advanceMs(1);
    List<RegionDecision> decisions = quorum.evaluate(opinions, clock.instant());
    assertThat(decisions).hasSize(1);
    RegionDecision down = decisions.get(0);
    assertThat(down.region()).isEqualTo("us-west");
    assertThat(down.state()).isEqualTo(State.DOWN);
    assertThat(down.adopter()).isEqualTo("us-east");
    assertThat(down.agreeing()).containsExactly("edge", "eu-west");
    assertThat(down.observers()).containsExactly("edge", "eu-west", "us-east");
    assertThat(down.suspectedSince()).isEqualTo(t0);
    assertThat(down.decidedAt()).isEqualTo(t0.plusMillis(400 + DETECT));
    assertThat(down.detectionMs()).isEqualTo(400 + DETECT);
    assertThat(quorum.evaluate(opinions, clock.instant())).as("decided once").isEmpty();
  }

  @Test
  void theLastRegionOfTheRingIsAdoptedByTheFirst() {
    Quorum quorum = suspectedBy("eu-west", t0, "edge", "us-west");
    clock.advanceMs(DETECT);
    assertThat(quorum.evaluate(opinions, clock.instant())).singleElement()
        .satisfies(d -> assertThat(d.adopter()).isEqualTo("us-west"));
  }

  @Test
  void aSuspicionInterruptedByHealthStartsOver() {
    Quorum quorum = suspectedBy("us-west", t0, "edge", "eu-west");
    clock.advanceMs(DETECT / 2);
    opinion("eu-west", "us-west", Verdict.OK, clock.instant());
    assertThat(quorum.evaluate(opinions, clock.instant())).isEmpty();
    clock.advanceMs(1000);
    Instant again = clock.instant();
    opinion("eu-west", "us-west", Verdict.SUSPECT, again);
    clock.set(t0.plusMillis(DETECT));
    assertThat(quorum.evaluate(opinions, clock.instant())).as("the edge alone has held long enough").isEmpty();
    clock.set(again.plusMillis(DETECT));
    assertThat(quorum.evaluate(opinions, clock.instant())).singleElement()
        .satisfies(d -> assertThat(d.decidedAt()).isEqualTo(again.plusMillis(DETECT)));
  }

  @Test
  void observersNotHeardFromCountForNeitherSide() {
    Quorum quorum = quorum();
    opinion("edge", "us-west", Verdict.SUSPECT, t0); // us-east and eu-west have no opinion (not heard)
    clock.advanceMs(10 * DETECT);
    assertThat(quorum.evaluate(opinions, clock.instant())).isEmpty();
    assertThat(quorum.majorityOf("us-west")).isEqualTo(2);
  }

  @Test
  void theRegionsOpinionOfItselfDoesNotCount() {
    Quorum quorum = quorum();
    opinion("us-west", "us-west", Verdict.SUSPECT, t0);
    opinion("edge", "us-west", Verdict.SUSPECT, t0);
    clock.advanceMs(10 * DETECT);
    assertThat(quorum.evaluate(opinions, clock.instant())).isEmpty();
  }

  @Test
  void aDownRegionIsUpAgainOnlyAfterAMajoritySawItHealthyForFailbackAfter() {
    Quorum quorum = suspectedBy("us-west", t0, "edge", "us-east", "eu-west");
    clock.advanceMs(DETECT);
    assertThat(quorum.evaluate(opinions, clock.instant())).hasSize(1);
    clock.advanceMs(5000);
    Instant back = clock.instant();
    opinion("edge", "us-west", Verdict.OK, back);
    opinion("us-east", "us-west", Verdict.OK, back.plusMillis(700));
    clock.set(back.plusMillis(700 + FAILBACK - 1));
    assertThat(quorum.evaluate(opinions, clock.instant())).isEmpty();
    assertThat(quorum.state("us-west")).isEqualTo(State.DOWN);
    clock.advanceMs(1);
    RegionDecision up = quorum.evaluate(opinions, clock.instant()).get(0);
    assertThat(up.state()).isEqualTo(State.UP);
    assertThat(up.adopter()).isNull();
    assertThat(up.suspectedSince()).as("healthy since").isEqualTo(back);
    assertThat(up.decidedAt()).isEqualTo(back.plusMillis(700 + FAILBACK));
    assertThat(quorum.state("us-west")).isEqualTo(State.UP);
  }

  @Test
  void participantsWithTheSameOpinionsReachTheSameDecisionWhenEverTheyLook() {
    everyoneSeesEveryRegionOk();
    opinion("edge", "us-east", Verdict.SUSPECT, t0.plusMillis(100));
    opinion("us-west", "us-east", Verdict.SUSPECT, t0.plusMillis(250));
    opinion("eu-west", "us-east", Verdict.SUSPECT, t0.plusMillis(900));
    RegionDecision early = quorum().evaluate(opinions, t0.plusMillis(250 + DETECT)).get(0);
    RegionDecision late = quorum().evaluate(opinions, t0.plusMillis(250 + DETECT + 3000)).get(0);
    assertThat(late.decidedAt()).isEqualTo(early.decidedAt()).isEqualTo(t0.plusMillis(250 + DETECT));
    assertThat(late.state()).isEqualTo(early.state());
    assertThat(late.adopter()).isEqualTo(early.adopter()).isEqualTo("eu-west");
    assertThat(late.agreeing()).as("everyone who agrees by then").containsExactly("edge", "eu-west", "us-west");
    assertThat(early.agreeing()).containsExactly("edge", "us-west");
  }
}
