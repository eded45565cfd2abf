package dev.genmesh.region.requests;

import dev.genmesh.protocol.Addresses;
import dev.genmesh.protocol.ProgressEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress events, live: publishes each stored event on {@link Addresses#events} (the whole
 * region cluster sees it) and fans the events of that address out to this node's stream
 * subscribers, with one event-bus consumer per node rather than one per stream. The events travel
 * as {@link ProgressEvent}s with their own codec ({@link #CODEC}): this node's consumer gets the
 * event itself (no JSON built, copied and parsed again per event), other nodes its JSON.
 */
public final class ProgressHub {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressHub.class);

  private final Vertx vertx;
  private final String address;
  private final Map<String, List<Consumer<ProgressEvent>>> listeners = new HashMap<>();
  /** Told of every event this node commits and publishes (not of other nodes' events), with its row when known. */
  private final List<BiConsumer<ProgressEvent, RequestRow>> committed = new ArrayList<>();
  private MessageConsumer<Object> consumer;
  /** The codec's name; every node of a region registers it (a node without it could not read the events). */
  public static final String CODEC = "genmesh-progress-event";

  public ProgressHub(Vertx vertx, String region) {
    this.vertx = vertx;
    this.address = Addresses.events(region);
  }

  public Future<Void> start() {
    registerCodec(vertx);
    consumer = vertx.eventBus().consumer(address, message -> {
      ProgressEvent event = message.body() instanceof ProgressEvent local ? local : null;
      if (event == null) {
        // JSON from a node of another version: look the request up before parsing anything.
        if (!(message.body() instanceof JsonObject json && json.getValue("request_id") instanceof String requestId)
            || !listeners.containsKey(requestId)) {
          return;
        }
        try {
          event = ProgressEvent.fromJson(json);
        } catch (RuntimeException e) {
          LOG.warn("ignoring malformed progress event on {}: {}", address, e.toString());
          return;
        }
      }
      List<Consumer<ProgressEvent>> forRequest = listeners.get(event.requestId());
      if (forRequest != null) {
        // A copy: a listener may unsubscribe (final event) while we iterate.
        for (Consumer<ProgressEvent> listener : new ArrayList<>(forRequest)) {
          listener.accept(event);
        }
      }
    });
    return consumer.completion();
  }

  /** Registers the events' codec on this Vert.x once (several region nodes may share one). */
  static void registerCodec(Vertx vertx) {
    synchronized (ProgressHub.class) {
      try {
        vertx.eventBus().registerDefaultCodec(ProgressEvent.class, new EventCodec());
      } catch (IllegalStateException alreadyRegistered) {
        // another node of this Vert.x did
      }
    }
  }

  /**
   * A {@link ProgressEvent} as is to consumers in this JVM (it is immutable: no listener changes
   * its data), and as its JSON (length-prefixed UTF-8) over the cluster.
   */
  static final class EventCodec implements MessageCodec<ProgressEvent, ProgressEvent> {
    @Override
    public void encodeToWire(Buffer buffer, ProgressEvent event) {
      Buffer json = event.toJson().toBuffer();
      buffer.appendInt(json.length()).appendBuffer(json);
    }

    @Override
    public ProgressEvent decodeFromWire(int pos, Buffer buffer) {
      int length = buffer.getInt(pos);
      return ProgressEvent.fromJson(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length)));
    }

    @Override
    public ProgressEvent transform(ProgressEvent event) {
      return event;
    }

    @Override
    public String name() {
      return CODEC;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }

  /** Call only after the event is committed to the log. */
  public void publish(ProgressEvent event) {
    publish(event, null);
  }

  /**
   * Call only after the change is committed to the log. The row the change wrote goes to the
   * {@link #onCommitted} listeners, so that they need not read it again (usage events).
   */
  public void publish(RequestLog.Change change) {
    publish(change.event(), change.row());
  }

  private void publish(ProgressEvent event, RequestRow row) {
    vertx.eventBus().publish(address, event);
    committed.forEach(listener -> listener.accept(event, row));
  }

  /**
   * Listens to the events this node commits: each event once in the region (usage events), with the
   * row as the change left it, or null when the publisher had only the event.
   */
  public void onCommitted(BiConsumer<ProgressEvent, RequestRow> listener) {
    committed.add(listener);
  }

  /** Listens to the live events of one request; run the answer to stop. */
  public Runnable subscribe(String requestId, Consumer<ProgressEvent> listener) {
    listeners.computeIfAbsent(requestId, id -> new ArrayList<>()).add(listener);
    return () -> {
      List<Consumer<ProgressEvent>> forRequest = listeners.get(requestId);
      if (forRequest != null) {
        forRequest.remove(listener);
        if (forRequest.isEmpty()) {
          listeners.remove(requestId);
        }
      }
    };
  }

  public int subscriptions() {
    return listeners.values().stream().mapToInt(List::size).sum();
  }

  public Future<Void> stop() {
    listeners.clear();
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
