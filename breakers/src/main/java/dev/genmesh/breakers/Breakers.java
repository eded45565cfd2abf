package dev.genmesh.breakers;

import dev.genmesh.config.BreakerConfig;
import dev.genmesh.protocol.Tier;
import dev.genmesh.protocol.WorkerMessages.Claim;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breakers of one region node: one {@link CountingBreaker} per model and per worker
 * (created on first use) and the global {@link FailureRateBreaker}. It takes attempt outcomes,
 * gates workers' claims, tells submits which tiers are shed, and tells its listeners about every
 * state change (after its lock is released, so they may call back in). Thread-safe; pure apart
 * from the listeners; time comes from the clock.
 */
public final class Breakers implements AttemptOutcomes {
  private static final Logger LOG = LoggerFactory.getLogger(Breakers.class);
  public static final String GLOBAL = "global";

  private final BreakerConfig config;
  private final List<String> knownModels;
  private final Clock clock;
  private final Map<String, CountingBreaker> models = new HashMap<>();
  private final Map<String, CountingBreaker> workers = new HashMap<>();
  private final FailureRateBreaker global;
  private final List<BreakerListener> listeners = new CopyOnWriteArrayList<>();
  /** Notifications raised under the lock, delivered after it. */
  private List<Runnable> raised = new ArrayList<>();

  /** @param knownModels the configured models: what a claim that names none may run */
  public Breakers(BreakerConfig config, Collection<String> knownModels, Clock clock) {
    this.config = config;
    this.knownModels = List.copyOf(knownModels);
    this.clock = clock;
    this.global = new FailureRateBreaker(config.global(), clock, new FailureRateBreaker.Listener() {
      @Override
      public void changed(BreakerState from, BreakerState to, String reason) {
        raise(new BreakerTransition(BreakerKind.GLOBAL, GLOBAL, from, to, clock.instant(), reason));
      }

      @Override
      public void shedding(Set<Tier> tiers, double failureRate) {
        Instant at = clock.instant();
        raised.add(() -> listeners.forEach(l -> deliver(() -> l.shedding(tiers, failureRate, at))));
      }
    });
  }

  public void addListener(BreakerListener listener) {
    listeners.add(listener);
  }

  public BreakerConfig config() {
    return config;
  }

  // ---- outcomes ------------------------------------------------------------------------

  @Override
  public void succeeded(String requestId, String model, String workerId) {
    run(() -> {
      if (model != null) {
        model(model).onSuccess(requestId);
      }
      if (workerId != null) {
        worker(workerId).onSuccess(requestId);
      }
      global.record(false);
    });
  }

  @Override
  public void failed(String requestId, String model, String workerId, String failureType, boolean retried) {
    String why = failureType == null || failureType.isBlank() ? "error" : failureType;
    run(() -> {
      if (model != null) {
        if (FailureScope.countsForModel(why)) {
          model(model).onFailure(requestId, why);
        } else if (models.containsKey(model)) {
          models.get(model).onNeither(requestId);
        }
      }
      if (workerId != null) {
        if (FailureScope.countsForWorker(why)) {
          worker(workerId).onFailure(requestId, why);
        } else if (workers.containsKey(workerId)) {
          workers.get(workerId).onNeither(requestId);
        }
      }
      if (FailureScope.countsForRegion(why, retried)) {
        global.record(true);
      }
    });
  }

  // ---- claims --------------------------------------------------------------------------

  /**
   * What this claim may take: empty when the worker's breaker is open (or half-open without a
   * free trial slot), or when none of its models may run now. A claim naming no models (any
   * model) is narrowed to the configured models that may run, once some model's breaker is not
   * closed. Settle the answer.
   */
  public Optional<ClaimAdmission> admit(Claim claim) {
    return call(() -> {
      CountingBreaker workerBreaker = workers.get(claim.workerId());
      CountingBreaker.Permit workerPermit = workerBreaker == null ? CountingBreaker.FREE : workerBreaker.tryAcquire();
      if (workerPermit == null) {
        return Optional.empty();
      }
      if (allModelsClosed()) {
        return Optional.of(new ClaimAdmission(this, claim, workerPermit, Map.of()));
      }
      List<String> allowed = new ArrayList<>();
      Map<String, CountingBreaker.Permit> permits = new HashMap<>();
      for (String name : claim.models().isEmpty() ? knownModels : claim.models()) {
        CountingBreaker breaker = models.get(name);
        CountingBreaker.Permit permit = breaker == null ? CountingBreaker.FREE : breaker.tryAcquire();
        if (permit != null) {
          allowed.add(name);
          permits.put(name, permit);
        }
      }
      if (allowed.isEmpty()) {
        workerPermit.release();
        return Optional.empty();
      }
      Claim narrowed = claim.withModels(List.copyOf(allowed));
      return Optional.of(new ClaimAdmission(this, narrowed, workerPermit, permits));
    });
  }

  private boolean allModelsClosed() {
    for (CountingBreaker breaker : models.values()) {
      if (breaker.state() != BreakerState.CLOSED) {
        return false;
      }
    }
    return true;
  }

  void settle(ClaimAdmission admission, String requestId, String model) {
    run(() -> {
      if (requestId == null) {
        admission.workerPermit.release();
      } else {
        admission.workerPermit.bind(requestId);
      }
      admission.modelPermits.forEach((name, permit) -> {
        if (requestId != null && name.equals(model)) {
          permit.bind(requestId);
        } else {
          permit.release();
        }
      });
    });
  }

  // ---- state ---------------------------------------------------------------------------

  public BreakerState modelState(String model) {
    return call(() -> models.containsKey(model) ? models.get(model).state() : BreakerState.CLOSED);
  }

  public BreakerState workerState(String workerId) {
    return call(() -> workers.containsKey(workerId) ? workers.get(workerId).state() : BreakerState.CLOSED);
  }

  public BreakerState globalState() {
    return call(global::state);
  }

  public double globalFailureRate() {
    return call(global::failureRate);
  }

  /** Models whose breaker is open now. */
  public List<String> openModels() {
    return call(() -> models.entrySet().stream().filter(e -> e.getValue().state() == BreakerState.OPEN)
        .map(Map.Entry::getKey).sorted().toList());
  }

  /** The tiers the global breaker sheds now (never turbo). */
  public Set<Tier> shedTiers() {
    return call(global::shedTiers);
  }

  /** Present when a submit of this tier is to be refused now. */
  public Optional<Overloaded> shed(Tier tier) {
    return call(() -> global.shedTiers().contains(tier)
        ? Optional.of(new Overloaded(tier, global.failureRate(), retryAfterSeconds()))
        : Optional.empty());
  }

  /** What shed submits are told to wait, in whole seconds. */
  public long retryAfterSeconds() {
    return Math.max(1, (config.global().retryAfterMs() + 999) / 1000);
  }

  /**
   * Lets time-driven changes happen now (open → half-open, the global window sliding) and forgets
   * worker breakers that are as good as new. Call it every second or so.
   */
  public void tick() {
    run(() -> {
      models.values().forEach(CountingBreaker::state);
      workers.values().removeIf(CountingBreaker::isPristine);
      global.state();
    });
  }

  // ---- internals -----------------------------------------------------------------------

  private CountingBreaker model(String name) {
    return models.computeIfAbsent(name, n -> new CountingBreaker(config.model(), clock,
        (from, to, reason) -> raise(new BreakerTransition(BreakerKind.MODEL, n, from, to, clock.instant(), reason))));
  }

  private CountingBreaker worker(String id) {
    return workers.computeIfAbsent(id, n -> new CountingBreaker(config.worker(), clock,
        (from, to, reason) -> raise(new BreakerTransition(BreakerKind.WORKER, n, from, to, clock.instant(), reason))));
  }

  private void raise(BreakerTransition transition) {
    raised.add(() -> listeners.forEach(l -> deliver(() -> l.changed(transition))));
  }

  private static void deliver(Runnable notification) {
    try {
      notification.run();
    } catch (RuntimeException e) {
      LOG.error("a breaker listener failed", e);
    }
  }

  private void run(Runnable action) {
    call(() -> {
      action.run();
      return null;
    });
  }

  private <T> T call(Supplier<T> action) {
    T result;
    List<Runnable> toDeliver;
    synchronized (this) {
      result = action.get();
      if (raised.isEmpty()) {
        return result; // the usual case: nothing changed state, nothing to deliver
      }
      toDeliver = raised;
      raised = new ArrayList<>();
    }
    toDeliver.forEach(Runnable::run);
    return result;
  }
}
