package dev.genmesh.launcher.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.region.scheduler.Routing;
import org.junit.jupiter.api.Test;

/** {@code up --autoscale}'s local pool: its workers serve every request class, so nothing waits out the routing hold. */
class LocalAutoscalingTest {

  @Test
  void theLocalWorkersServeEveryRequestClassOfTheRoutingMatrix() {
    GenmeshConfig base = ConfigLoader.defaults();
    String local = base.worker().gpuClass();
    assertThat(base.gpus()).as("the default catalog has no %s class", local).doesNotContainKey(local);

    GenmeshConfig scaled = LocalAutoscaling.configure(base);

    assertThat(scaled.gpus()).containsKey(local);
    assertThat(scaled.autoscaling().pools().get(local).min()).isEqualTo(1);
    assertThat(new Routing(scaled).classesFor(local)).hasValueSatisfying(
        classes -> assertThat(classes).containsExactlyInAnyOrderElementsOf(base.routing().keySet()));
    base.routing().forEach((requestClass, allowed) ->
        assertThat(scaled.routing().get(requestClass)).as(requestClass).containsAll(allowed).contains(local));
  }
}
