package dev.genmesh.failover;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A region's permission to dispatch, as a lease its observers renew (docs/architecture.md,
 * "Self-fencing"). Every fetch of an observer's opinions whose answer says the region is ok is a
 * vote, valid for {@code fence_after} from the moment the fetch was <em>sent</em> (the answer was
 * made later, so the vote never outlives the observer's ok); an answer that suspects the region
 * withdraws that observer's vote. The region is fenced while fewer than a majority of its
 * observers hold a valid vote. A region that no majority can reach, or that a majority suspects,
 * is fenced within {@code fence_after}, before any majority can have suspected it for
 * {@code detect_after}. Pure (time is passed in) and thread-safe: claims ask from the node's event loop.
 */
public final class FenceLease {
  private final List<String> observers;
  private final Duration fenceAfter;
  private final Map<String, Instant> okSentAt = new HashMap<>();

  public FenceLease(List<String> observers, Duration fenceAfter) {
    this.observers = List.copyOf(observers);
    this.fenceAfter = fenceAfter;
  }

  /** An answer of {@code observer} to a fetch sent at {@code sentAt}: it holds the region ok, or not. */
  public synchronized void vote(String observer, Instant sentAt, boolean ok) {
    if (!observers.contains(observer)) {
      return;
    }
    if (ok) {
      okSentAt.merge(observer, sentAt, (a, b) -> a.isAfter(b) ? a : b);
    } else {
      okSentAt.remove(observer);
    }
  }

  /** Observers whose vote is still valid at {@code now}. */
  public synchronized int validVotes(Instant now) {
    return (int) okSentAt.values().stream().filter(sent -> sent.plus(fenceAfter).isAfter(now)).count();
  }

  public int majority() {
    return observers.size() / 2 + 1;
  }

  public synchronized boolean fenced(Instant now) {
    return validVotes(now) < majority();
  }

  /** Until when the current votes keep the region unfenced (null: fenced now or no votes). */
  public synchronized Instant validUntil(Instant now) {
    List<Instant> expiries = okSentAt.values().stream().map(sent -> sent.plus(fenceAfter)).filter(e -> e.isAfter(now))
        .sorted((a, b) -> b.compareTo(a)).toList();
    return expiries.size() < majority() ? null : expiries.get(majority() - 1);
  }
}
