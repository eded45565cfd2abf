package dev.genmesh.region.autoscale;

import dev.genmesh.autoscaler.Replacement;
import dev.genmesh.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects the region's replacement requests ({@code Addresses.replacements(region)}) between two
 * policy evaluations; {@link #drain()} hands them to the next observation. A worker reported twice
 * before the next evaluation (e.g. "unhealthy", then "gone") asks for one replacement. Use on the
 * event loop that evaluates the policy.
 */
public final class ReplacementInbox {
  private static final Logger LOG = LoggerFactory.getLogger(ReplacementInbox.class);

  private final String region;
  private final List<Replacement> pending = new ArrayList<>();
  private MessageConsumer<JsonObject> consumer;

  public ReplacementInbox(String region) {
    this.region = region;
  }

  /** Starts listening on this region's address. */
  public Future<Void> listen(Vertx vertx) {
    consumer = vertx.eventBus().consumer(Addresses.replacements(region), message -> {
      try {
        add(Replacement.fromJson(message.body()));
      } catch (RuntimeException e) {
        LOG.warn("{}: replacement request ignored, not {{region, worker_id, gpu_class, reason}}: {}", region, message.body());
      }
    });
    return consumer.completion();
  }

  public void add(Replacement replacement) {
    if (replacement.gpuClass() == null || replacement.workerId() == null) {
      LOG.warn("{}: replacement request without worker_id or gpu_class ignored: {}", region, replacement);
      return;
    }
    if (pending.stream().noneMatch(r -> r.workerId().equals(replacement.workerId()))) {
      pending.add(replacement);
    }
  }

  /** The requests since the last call. */
  public List<Replacement> drain() {
    List<Replacement> out = List.copyOf(pending);
    pending.clear();
    return out;
  }

  public Future<Void> close() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
