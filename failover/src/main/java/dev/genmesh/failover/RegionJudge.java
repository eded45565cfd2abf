package dev.genmesh.failover;

import dev.genmesh.failover.Opinion.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One observer's judgement of one region from its probes: suspect while the region does not
 * answer, answers that its stores are not ready, or holds queued work that has not been
 * dispatched for {@code stallAfter} (an idle region never stalls); ok otherwise. The opinion's
 * {@code since} is when the verdict last changed. Pure: time comes with each probe.
 */
public final class RegionJudge {
  /**
   * What one probe of a region's {@code /failover/status} found.
   *
   * @param answered false: no answer in time (then the rest is meaningless)
   * @param ready the region says its stores answer and its queues are rebuilt
   * @param queued requests waiting in its tier queues
   * @param progress a token that changes with every dispatch in the region (any node)
   * @param problem what went wrong, in words, when not answered or not ready
   */
  public record Probe(boolean answered, boolean ready, long queued, String progress, String problem) {
    public static Probe unanswered(String why) {
      return new Probe(false, false, 0, "", why);
    }
  }

  private final String region;
  private final Duration stallAfter;
  private Opinion opinion;
  private String lastProgress;
  private Instant progressSince;

  public RegionJudge(String region, Duration stallAfter) {
    this.region = region;
    this.stallAfter = stallAfter;
  }

  /** The opinion after this probe, judging progress too. */
  public Opinion judge(Probe probe, Instant now) {
    return judge(probe, now, true);
  }

  /**
   * The opinion after this probe.
   *
   * @param judgeProgress false while the quorum holds the region DOWN: its queued work is being
   *     adopted and it is fenced, so it cannot and may not dispatch; answering and ready is all
   *     it can show (else a region once found stalled could never come back)
   */
  public Opinion judge(Probe probe, Instant now, boolean judgeProgress) {
    String suspicion = suspicion(probe, now, judgeProgress);
    Verdict verdict = suspicion == null ? Verdict.OK : Verdict.SUSPECT;
    String reason = suspicion == null ? "ready, dispatching or idle" : suspicion;
    if (opinion == null || opinion.verdict() != verdict) {
      opinion = new Opinion(region, verdict, now, reason);
    } else {
      opinion = new Opinion(region, verdict, opinion.since(), reason);
    }
    return opinion;
  }

  /** The current opinion; null before the first probe. */
  public Opinion opinion() {
    return opinion;
  }

  private String suspicion(Probe probe, Instant now, boolean judgeProgress) {
    if (!probe.answered()) {
      return "no answer: " + probe.problem();
    }
    if (!probe.ready()) {
      return "not ready: " + probe.problem();
    }
    if (!judgeProgress || probe.queued() == 0 || !Objects.equals(probe.progress(), lastProgress)) {
      lastProgress = probe.progress();
      progressSince = now;
      return null;
    }
    long stalledMs = Duration.between(progressSince, now).toMillis();
    return stalledMs >= stallAfter.toMillis()
        ? "stalled: " + probe.queued() + " queued and no dispatch for " + stalledMs + " ms" : null;
  }
}
