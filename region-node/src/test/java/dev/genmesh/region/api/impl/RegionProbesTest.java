package dev.genmesh.region.api.impl;

import static dev.genmesh.testkit.Waits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class RegionProbesTest {
  /** A ping that answers after the health check's timeout: the check says KO, and the late answer throws nothing. */
  @Test
  void aPingThatAnswersAfterTheCheckTimedOutIsDroppedQuietly() {
    Vertx vertx = Vertx.vertx();
    try {
      List<Throwable> unhandled = new CopyOnWriteArrayList<>();
      vertx.exceptionHandler(unhandled::add);
      Promise<Void> ping = Promise.promise();
      HealthChecks checks = HealthChecks.create(vertx)
          .register("postgres", 50, promise -> RegionProbes.reachable(ping.future(), promise));

      assertThat(await(checks.checkStatus()).getUp()).as("timed out: KO").isFalse();
      await(vertx.timer(100).compose(t -> {
        ping.complete();
        return vertx.timer(50);
      }));

      assertThat(unhandled).isEmpty();
    } finally {
      await(vertx.close());
    }
  }
}
