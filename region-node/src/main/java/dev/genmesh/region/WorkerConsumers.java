package dev.genmesh.region;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.region.node.RegionContext;
import dev.genmesh.region.safety.SafetyGate;
import dev.genmesh.region.scheduler.AssignedRows;
import dev.genmesh.region.scheduler.impl.ClaimHandler;
import dev.genmesh.region.scheduler.impl.ParkedClaims;
import dev.genmesh.region.workers.impl.WorkerReports;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The event-bus consumers through which workers reach a region node (region-node/API.md, "Event
 * bus"): claims, steps, results, failures and heartbeats, and the other nodes' announcements of
 * work for this node's waiting claims. The claims and the results share the rows this node
 * assigned ({@link AssignedRows}), so that a result of one is checked before it is written
 * (region-node/SAFETY.md).
 */
final class WorkerConsumers {
  private WorkerConsumers() {}

  /**
   * Registers them; the caller waits for their completion and unregisters them at stop.
   *
   * @param fenced true while the region may not dispatch (see {@link ClaimHandler})
   */
  static List<MessageConsumer<?>> register(RegionContext ctx, QueueMachinery m, ParkedClaims parked, SafetyGate gate,
      BooleanSupplier fenced) {
    String region = ctx.region();
    AssignedRows assigned = new AssignedRows();
    ClaimHandler claims = new ClaimHandler(ctx, m.routing, m.workers, m.eta, m.watch::keysLost, m.breakers.board(), parked,
        m.handBacks, fenced).remembering(assigned);
    WorkerReports reports = new WorkerReports(ctx, m.retries, m.eta, gate, m.breakers, assigned);
    EventBus bus = ctx.vertx().eventBus();
    return List.of(
        bus.consumer(Addresses.claim(region), claims::handle),
        bus.consumer(Addresses.progress(region), reports::step),
        bus.consumer(Addresses.result(region), reports::result),
        bus.consumer(Addresses.failure(region), reports::failure),
        bus.consumer(Addresses.heartbeat(region), m.workers::heartbeat),
        bus.consumer(Addresses.workAvailable(region), parked::published)); // other nodes' work
  }
}
