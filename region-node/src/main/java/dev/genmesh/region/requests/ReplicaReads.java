package dev.genmesh.region.requests;

import dev.genmesh.protocol.ProgressEvent;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;

/**
 * Read-only answers for ids this region's log does not hold but the replica of its ward (the region
 * it adopts) does, once they ended there: a ward that died after completing them leaves them
 * readable here (region-node/API.md, "Answers from the ward's replica"). Nothing is written.
 */
public interface ReplicaReads {
  /** No ward: every unknown id stays unknown. */
  ReplicaReads NONE = new ReplicaReads() {
    @Override
    public Future<Optional<Ended>> ended(String id) {
      return Future.succeededFuture(Optional.empty());
    }

    @Override
    public Future<List<ProgressEvent>> eventsAfter(Ended ended, long afterSeq) {
      return Future.succeededFuture(List.of());
    }
  };

  /** A request that ended (completed, failed, cancelled) in {@code ward}, as its replica holds it. */
  record Ended(String ward, RequestRow row) {}

  /** The ward's ended request {@code id}, if the replica holds one of that id. */
  Future<Optional<Ended>> ended(String id);

  /** Its events after {@code afterSeq} in the replica, in order. */
  Future<List<ProgressEvent>> eventsAfter(Ended ended, long afterSeq);
}
