package dev.genmesh.failover;

import dev.genmesh.config.failover.FailoverConfig;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.protocol.failover.RegionDecision.State;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The quorum rule (docs/architecture.md, "Region failure detection"). A region's observers are
 * every participant but the region itself; it is declared {@link State#DOWN} once a majority of
 * them has suspected it continuously for {@code detect_after}, and {@link State#UP} again once a
 * majority has seen it healthy continuously for {@code failback_after}. An observer without an
 * opinion (not heard from lately) counts for neither side, so one observer's bad link decides
 * nothing. Pure and deterministic: the same opinions give the same decisions, with the same
 * {@code decidedAt} (the instant the condition became true, not the instant it was evaluated).
 */
public final class Quorum {
  private final FailoverConfig config;
  private final List<String> regions;
  private final List<String> participants;
  private final Map<String, State> states = new ConcurrentHashMap<>();
  private final Map<String, Instant> stateSince = new ConcurrentHashMap<>();

  /** @param participants every observer: the regions and the edge */
  public Quorum(FailoverConfig config, List<String> regions, List<String> participants, Instant start) {
    this.config = config;
    this.regions = List.copyOf(regions);
    this.participants = participants.stream().sorted().toList();
    regions.forEach(region -> {
      states.put(region, State.UP);
      stateSince.put(region, start);
    });
  }

  /** Who judges {@code region}: every participant but itself, by name. */
  public List<String> observersOf(String region) {
    return participants.stream().filter(p -> !p.equals(region)).toList();
  }

  /** How many of {@code region}'s observers make a majority. */
  public int majorityOf(String region) {
    return observersOf(region).size() / 2 + 1;
  }

  public State state(String region) {
    return states.getOrDefault(region, State.UP);
  }

  public Instant since(String region) {
    return stateSince.get(region);
  }

  public Map<String, State> states() {
    return new TreeMap<>(states);
  }

  /**
   * Applies the rule to every region and returns the decisions that change a state, by region name.
   *
   * @param opinions observer → region → its current opinion (anchored on this participant's clock);
   *     an observer or region missing has no opinion
   */
  public List<RegionDecision> evaluate(Map<String, Map<String, Opinion>> opinions, Instant now) {
    List<RegionDecision> decisions = new ArrayList<>();
    for (String region : regions.stream().sorted().toList()) {
      decide(region, opinions, now).ifPresent(decision -> {
        states.put(region, decision.state());
        stateSince.put(region, decision.decidedAt());
        decisions.add(decision);
      });
    }
    return decisions;
  }

  private static Instant max(Instant a, Instant b) {
    return b == null || a.isAfter(b) ? a : b;
  }

  private Optional<RegionDecision> decide(String region, Map<String, Map<String, Opinion>> opinions, Instant now) {
    boolean up = state(region) == State.UP;
    Opinion.Verdict wanted = up ? Opinion.Verdict.SUSPECT : Opinion.Verdict.OK;
    Duration span = Duration.ofMillis(up ? config.detectAfterMs() : config.failbackAfterMs());
    List<String> observers = observersOf(region);
    Map<String, Opinion> agreeing = new TreeMap<>();
    for (String observer : observers) {
      Opinion opinion = opinions.getOrDefault(observer, Map.of()).get(region);
      if (opinion != null && opinion.verdict() == wanted && opinion.heldFor(span, now)) {
        agreeing.put(observer, opinion);
      }
    }
    int majority = majorityOf(region);
    if (agreeing.size() < majority) {
      return Optional.empty();
    }
    List<Instant> sinces = agreeing.values().stream().map(Opinion::since).sorted(Comparator.naturalOrder()).toList();
    // The condition held from the moment the majority-th observer had held its opinion long enough.
    Instant decidedAt = max(sinces.get(majority - 1).plus(span), stateSince.get(region));
    String reasons = agreeing.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue().reason())
        .collect(Collectors.joining("; "));
    State state = up ? State.DOWN : State.UP;
    return Optional.of(new RegionDecision(region, state, up ? config.adopterOf(region) : null, decidedAt, sinces.get(0),
        List.copyOf(agreeing.keySet()), observers, (up ? "suspected by " : "healthy for ") + agreeing.size() + " of "
        + observers.size() + " observers (" + reasons + ")"));
  }
}
