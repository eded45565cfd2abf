package dev.genmesh.region.api.impl;

import dev.genmesh.protocol.ProgressEvent;
import dev.genmesh.region.requests.ProgressHub;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import java.util.List;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket following one request: the stored events after {@code after}, then the live
 * ones, each exactly once and in seq order, then close after the final event.
 *
 * <p>It subscribes to live events before it reads the log, buffers what arrives meanwhile, and
 * reads the log again whenever a live event would leave a gap (an event published by another
 * node may overtake one of ours). Used from one event loop only.
 */
public final class EventStream {
  private static final Logger LOG = LoggerFactory.getLogger(EventStream.class);
  private static final short NORMAL = 1000;
  private static final short SERVER_ERROR = 1011;

  private final String requestId;
  private final Source log;
  private final boolean terminalAtStart;
  private final TreeMap<Long, ProgressEvent> pending = new TreeMap<>();
  private final Runnable unsubscribe;
  private ServerWebSocket socket;
  private long lastSent;
  private boolean readingLog;
  private boolean closed;

  /** Where the stored events come from: this region's log, or the ward's replica for a request that ended there. */
  @FunctionalInterface
  public interface Source {
    Future<List<ProgressEvent>> eventsAfter(String requestId, long afterSeq);
  }

  /** Subscribes at once; call {@link #attach} when the socket is open, or {@link #cancel}. */
  public EventStream(String requestId, long after, boolean terminalAtStart, Source log, ProgressHub hub) {
    this.requestId = requestId;
    this.lastSent = after;
    this.terminalAtStart = terminalAtStart;
    this.log = log;
    this.unsubscribe = hub.subscribe(requestId, this::onLive);
    this.readingLog = true;
  }

  public void attach(ServerWebSocket ws) {
    socket = ws;
    if (closed) {
      ws.close(NORMAL, "final event already sent");
      return;
    }
    ws.closeHandler(v -> finish());
    ws.exceptionHandler(err -> LOG.debug("request {}: event stream socket error: {}", requestId, err.toString()));
    readLog();
  }

  public void cancel() {
    finish();
  }

  private void onLive(ProgressEvent event) {
    if (closed) {
      return;
    }
    if (event.seq() <= lastSent) {
      if (event.type().isFinal()) {
        close(NORMAL, "final event already sent");
      }
      return;
    }
    pending.put(event.seq(), event);
    if (!readingLog) {
      drain(true);
    }
  }

  private void readLog() {
    readingLog = true;
    long before = lastSent;
    log.eventsAfter(requestId, lastSent).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        LOG.warn("request {}: event stream cannot read the log: {}", requestId, ar.cause().toString());
        close(SERVER_ERROR, "storage unavailable");
        return;
      }
      for (ProgressEvent event : ar.result()) {
        if (closed) {
          return;
        }
        if (event.seq() > lastSent) {
          send(event);
        }
      }
      readingLog = false;
      if (!closed && terminalAtStart) {
        // Everything of a finished request is in the log; a stream that started past its end stops here.
        close(NORMAL, "request already finished");
        return;
      }
      // A gap the log could not fill yet waits for the next live event instead of spinning.
      drain(lastSent > before);
    });
  }

  /** Sends buffered events while they follow on; a gap means the log has more for us. */
  private void drain(boolean mayReadLog) {
    while (!closed && !pending.isEmpty()) {
      long first = pending.firstKey();
      if (first <= lastSent) {
        pending.pollFirstEntry();
      } else if (first == lastSent + 1) {
        send(pending.pollFirstEntry().getValue());
      } else {
        if (mayReadLog) {
          readLog();
        }
        return;
      }
    }
  }

  private void send(ProgressEvent event) {
    if (event.type() == dev.genmesh.protocol.EventType.REGION_FAILOVER && event.data() != null
        && event.data().getBoolean("moved", false)) {
      // Adopted by a peer while this region was cut off (its numbering is the adopter's from here): not a
      // normal end, so the edge resumes after the last event it relayed where the request is served now.
      close(SERVER_ERROR, "adopted by " + event.data().getString("to") + "; resume there");
      return;
    }
    socket.writeTextMessage(event.toJson().encode());
    lastSent = event.seq();
    if (event.type().isFinal()) {
      close(NORMAL, "final event sent");
    }
  }

  private void close(short code, String reason) {
    if (!closed) {
      finish();
      if (socket != null) {
        socket.close(code, reason);
      }
    }
  }

  private void finish() {
    if (!closed) {
      closed = true;
      pending.clear();
      unsubscribe.run();
    }
  }
}
