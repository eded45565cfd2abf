package dev.genmesh.launcher.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.autoscaler.ScalePlan;
import dev.genmesh.launcher.scaling.impl.RegistryDrainCandidates;
import dev.genmesh.region.workers.KnownWorker;
import dev.genmesh.region.workers.WorkerState;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegistryDrainCandidatesTest {
  private static final Instant T = Instant.parse("2026-11-27T10:02:00Z");

  @Test
  void startingThenIdleHoldingTheDrainFamiliesThenIdleThenLeastBusy() {
    List<KnownWorker> workers = List.of(
        worker("busy-2", "L4", WorkerState.HEALTHY, List.of("flux-dev"), List.of("r1", "r2")),
        worker("busy-1", "L4", WorkerState.HEALTHY, List.of("flux-dev"), List.of("r3")),
        worker("idle-sdxl", "L4", WorkerState.HEALTHY, List.of("sdxl-base"), List.of()),
        worker("idle-sd3", "L4", WorkerState.HEALTHY, List.of("sd3-medium"), List.of()),
        worker("idle-flux", "L4", WorkerState.HEALTHY, List.of("flux-dev"), List.of()),
        worker("starting", "L4", WorkerState.NOT_READY, List.of(), List.of()),
        worker("gone", "L4", WorkerState.GONE, List.of(), List.of()),
        worker("other-pool", "H100", WorkerState.NOT_READY, List.of(), List.of()));
    var candidates = new RegistryDrainCandidates(() -> workers, model -> model.substring(0, model.indexOf('-')));

    List<String> order = candidates.choose("L4", 3, new ScalePlan(Map.of(), List.of("flux", "sd3"))).result();

    assertThat(order).containsExactly("starting", "idle-flux", "idle-sd3", "idle-sdxl", "busy-1", "busy-2");
  }

  private static KnownWorker worker(String id, String gpu, WorkerState state, List<String> models, List<String> active) {
    return new KnownWorker(id, gpu, models, active, T, null, 10_000, 0.0, state, "test", T);
  }
}
