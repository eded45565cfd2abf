package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code postgres-failover}: a region's PostgreSQL becomes unreachable (its fault proxy cuts every
 * connection and refuses new ones) for the experiment's duration, then comes back. Submits the
 * region cannot log are refused ({@code 503}, never a {@code 202} it could lose) or go to another
 * region; once the database is back the region accepts again within 60 s and nothing acknowledged
 * is lost or done twice.
 */
final class PostgresFailover implements Experiment {
  @Override
  public String name() {
    return "postgres-failover";
  }

  @Override
  public String expected() {
    return "a region's PostgreSQL unreachable then back: no 202 without a log row, the region accepts again within 60 s,"
        + " nothing lost";
  }

  @Override
  public void run(Run run) {
    JsonObject proxies = run.mesh().targets().getJsonObject("proxies");
    Optional<String> proxy = proxies.fieldNames().stream().filter(n -> n.startsWith("postgres-")).sorted().findFirst();
    if (!run.check("a PostgreSQL fault proxy", proxy.isPresent(), proxies.fieldNames().toString())) {
      return;
    }
    String region = proxy.get().substring("postgres-".length());
    run.mesh().proxy(proxy.get(), 0, true);
    try {
      run.hold(run.duration());
    } finally {
      run.mesh().proxy(proxy.get(), 0, false);
    }
    Instant healed = Instant.now();
    Optional<Instant> accepted = run.await(Duration.ofSeconds(90), () -> run.load().submissions().stream()
        .filter(s -> s.acknowledged() && s.at().isAfter(healed) && s.id().startsWith(codeOf(run, region)))
        .map(Load.Submission::at).findFirst().orElse(null));
    double recovery = accepted.map(at -> Run.seconds(healed, at)).orElse(-1.0);
    run.measure("outage_s", run.duration().toSeconds());
    run.measure("accepting_again_s", recovery);
    run.check(region + " accepts again within 60 s of the database's return", recovery >= 0 && recovery < 60,
        recovery + " s");
  }

  static String codeOf(Run run, String region) {
    return run.mesh().targets().getJsonObject("regions").getJsonObject(region).getString("code");
  }
}
