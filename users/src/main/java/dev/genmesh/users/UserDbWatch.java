package dev.genmesh.users;

import dev.genmesh.config.UsersConfig;
import dev.genmesh.protocol.failover.RegionDecision;
import dev.genmesh.users.impl.ServerState;
import dev.genmesh.users.impl.UserDbPools;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Promotes a standby when the user database's primary is lost, the way Patroni or CloudNativePG
 * would, for {@code genmesh up} (one process decides, so two promotions cannot race): the primary
 * not answering for {@code users.auto_promote_after_ms}, or a failover decision declaring its
 * region down ({@link RegionDecision#ADDRESS}), starts a {@link UserDbPromotion} (never forced).
 * Production leaves {@code auto_promote_after_ms} at 0 and lets its operator promote.
 */
public final class UserDbWatch {
  private static final Logger LOG = LoggerFactory.getLogger(UserDbWatch.class);
  public static final String PROMOTIONS = "genmesh.users.promotions";
  public static final String CHECK_INTERVAL_PROPERTY = "genmesh.users.watchIntervalMs";
  private static final long CHECK_INTERVAL_MS = Long.getLong(CHECK_INTERVAL_PROPERTY, 500);

  private final Vertx vertx;
  private final UsersConfig users;
  private final UserDbPools pools;
  private final LongSupplier nanoTime;
  private final Counter promoted;
  private final Counter refused;
  private long timer = -1;
  private MessageConsumer<JsonObject> decisions;
  private long failingSinceNanos = -1;
  private boolean promoting;
  private volatile UserDbPromotion.Outcome last;

  private UserDbWatch(Vertx vertx, UsersConfig users, MeterRegistry meters, LongSupplier nanoTime) {
    this.vertx = vertx;
    this.users = users;
    this.pools = UserStores.pools(vertx, users);
    this.nanoTime = nanoTime;
    this.promoted = Counter.builder(PROMOTIONS).tag("outcome", "promoted")
        .description("standbys of the user database promoted by this process").register(meters);
    this.refused = Counter.builder(PROMOTIONS).tag("outcome", "refused")
        .description("promotions of the user database tried and refused or failed").register(meters);
  }

  /** Starts watching; nothing when the database is not replicated or auto promotion is off. */
  public static Optional<UserDbWatch> start(Vertx vertx, UsersConfig users, MeterRegistry meters) {
    if (!users.enabled() || !users.replicated() || users.autoPromoteAfterMs() <= 0) {
      return Optional.empty();
    }
    UserDbWatch watch = new UserDbWatch(vertx, users, meters, System::nanoTime);
    watch.timer = vertx.setPeriodic(CHECK_INTERVAL_MS, id -> watch.check());
    watch.decisions = vertx.eventBus().consumer(RegionDecision.ADDRESS, message -> watch.onDecision(message.body()));
    return Optional.of(watch);
  }

  /** The last promotion this watch made, if any. */
  public Optional<UserDbPromotion.Outcome> lastPromotion() {
    return Optional.ofNullable(last);
  }

  private void check() {
    if (promoting) {
      return;
    }
    pools.writes().compose(ServerState::of).onComplete(state -> {
      if (state.succeeded() && !state.result().standby()) {
        failingSinceNanos = -1;
        return;
      }
      pools.forgetPrimary();
      long now = nanoTime.getAsLong();
      if (failingSinceNanos < 0) {
        failingSinceNanos = now;
        LOG.warn("user database: the primary does not answer ({}); promoting a standby if it stays so for {} ms",
            state.failed() ? state.cause().getMessage() : "it is a standby now", users.autoPromoteAfterMs());
      } else if (now - failingSinceNanos >= users.autoPromoteAfterMs() * 1_000_000L) {
        promote("the primary did not answer for " + users.autoPromoteAfterMs() + " ms");
      }
    });
  }

  private void onDecision(JsonObject body) {
    RegionDecision decision = RegionDecision.fromJson(body);
    if (decision.state() != RegionDecision.State.DOWN || promoting) {
      return;
    }
    pools.primaryRegion().onSuccess(primary -> {
      if (primary.equals(decision.region())) {
        promote("its region " + primary + " was declared down");
      }
    }).onFailure(failed -> promote("region " + decision.region() + " was declared down and no primary answers"));
  }

  private void promote(String why) {
    if (promoting) {
      return;
    }
    promoting = true;
    LOG.warn("user database: promoting a standby: {}", why);
    UserDbPromotion.promote(pools, users, Optional.empty(), false)
        .onSuccess(outcome -> {
          last = outcome;
          promoted.increment();
          failingSinceNanos = -1;
        })
        .onFailure(failed -> {
          refused.increment();
          failingSinceNanos = nanoTime.getAsLong(); // the next try after another auto_promote_after_ms, not at once
          LOG.error("user database: promotion failed: {}", failed.getMessage());
        })
        .onComplete(done -> promoting = false);
  }

  public Future<Void> close() {
    vertx.cancelTimer(timer);
    return (decisions == null ? Future.<Void>succeededFuture() : decisions.unregister()).compose(v -> pools.close());
  }
}
