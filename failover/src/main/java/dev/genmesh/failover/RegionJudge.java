package dev.genmesh.failover;

import dev.genmesh.failover.Opinion.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One observer's judgement of one region from its probes: suspect while the region does not
 * answer, answers that its stores are not ready, or holds queued work that has not been
 * dispatched for {@code stallAfter} (an idle region never stalls); ok otherwise. The opinion's
 * {@code since} is when the verdict last changed. A region this judge has never seen ready is
 * not suspected during a start-up grace counted from the judge's first probe (regions of one
 * deployment start at about the same time, and a slow start is not a failure); past the grace, or
 * once it was seen ready, it is judged as above. Pure: time comes with each probe.
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
  private final Duration startupGrace;
  private Instant firstProbe;
  private boolean seenReady;
  private Opinion opinion;
  private String lastProgress;
  private Instant progressSince;

  /** No start-up grace: a region is suspect from the first probe that finds it wanting. */
  public RegionJudge(String region, Duration stallAfter) {
    this(region, stallAfter, Duration.ZERO);
  }

  /** @param startupGrace how long a region never seen ready is not suspected, from the first probe */
  public RegionJudge(String region, Duration stallAfter, Duration startupGrace) {
    this.region = region;
    this.stallAfter = stallAfter;
    this.startupGrace = startupGrace;
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
    if (firstProbe == null) {
      firstProbe = now;
    }
    seenReady |= probe.answered() && probe.ready();
    if (!seenReady && Duration.between(firstProbe, now).compareTo(startupGrace) < 0) {
      return null; // starting: not seen ready yet, within the grace
    }
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
