package dev.genmesh.launcher.generate;

import dev.genmesh.client.GenerationEvent;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What {@code genmesh generate} prints while a generation runs: on a terminal one progress line
 * rewritten in place (queue position, ETA, a bar of the steps); elsewhere one plain line per
 * change; with {@code --json} each event as one JSON object per line.
 */
final class ProgressView {
  enum Mode { LINE, PLAIN, JSON }

  private static final int BAR = 24;

  private final PrintWriter out;
  private final Mode mode;
  private String id = "";
  private int lastLength;
  private final AtomicBoolean resultPrinted = new AtomicBoolean();

  ProgressView(PrintWriter out, Mode mode) {
    this.out = out;
    this.mode = mode;
  }

  void accepted(String requestId, String region) {
    this.id = requestId;
    if (mode == Mode.JSON) {
      print(new JsonObject().put("accepted", new JsonObject().put("id", requestId).put("region", region)));
    } else {
      out.println("submitted " + requestId + " (region " + region + ")");
      out.flush();
    }
  }

  synchronized void event(GenerationEvent event) {
    if (mode == Mode.JSON) {
      print(new JsonObject().put("event", event.json()));
      return;
    }
    String text = describe(event);
    if (mode == Mode.PLAIN) {
      out.println(text);
    } else {
      String padded = text.length() < lastLength ? text + " ".repeat(lastLength - text.length()) : text;
      out.print("\r" + padded);
      lastLength = text.length();
      if (event.isTerminal()) {
        out.println();
      }
    }
    out.flush();
  }

  /** A line outside the progress (a retry, the files written), after a pending progress line. */
  synchronized void note(String text) {
    if (mode == Mode.JSON) {
      return;
    }
    if (mode == Mode.LINE && lastLength > 0) {
      out.println();
      lastLength = 0;
    }
    out.println(text);
    out.flush();
  }

  /** The outcome, with {@code --json} only, and once (Ctrl-C's cancel and the stream's end may both report it). */
  void result(JsonObject json) {
    if (mode == Mode.JSON && resultPrinted.compareAndSet(false, true)) {
      print(json);
    }
  }

  private synchronized void print(JsonObject json) {
    out.println(json.encode());
    out.flush();
  }

  private String describe(GenerationEvent event) {
    return id + "  " + text(event);
  }

  private static String text(GenerationEvent event) {
    if (event instanceof GenerationEvent.Queued q) {
      return q.retryCount() > 0 ? "queued again (retry " + q.retryCount() + ", " + q.reason() + ")"
          : "queued" + (q.position() == null ? "" : " #" + q.position()) + eta(q.etaMs());
    } else if (event instanceof GenerationEvent.Started s) {
      return "started on " + s.worker();
    } else if (event instanceof GenerationEvent.Step s) {
      return "step " + s.step() + "/" + s.total() + " " + bar(s.step(), s.total());
    } else if (event instanceof GenerationEvent.SafetyPending s) {
      return "safety check pending" + (s.reason() == null ? "" : ": " + s.reason());
    } else if (event instanceof GenerationEvent.RegionFailover f) {
      return "region " + f.from() + " lost, continued in " + f.to() + (f.position() == null ? "" : " #" + f.position())
          + eta(f.etaMs());
    } else if (event instanceof GenerationEvent.Fallback f) {
      return "model " + f.from() + " unavailable, running on " + f.to();
    } else if (event instanceof GenerationEvent.Completed c) {
      return "completed (" + c.images().size() + " image" + (c.images().size() == 1 ? "" : "s") + ")";
    } else if (event instanceof GenerationEvent.Failed f) {
      return "failed: " + f.code() + (f.message() == null ? "" : " (" + f.message() + ")");
    } else if (event instanceof GenerationEvent.Cancelled) {
      return "cancelled";
    }
    return event.type();
  }

  private static String eta(Long etaMs) {
    return etaMs == null ? "" : String.format(Locale.ROOT, ", ETA %.0f s", Math.ceil(etaMs / 1000.0));
  }

  private static String bar(int step, int total) {
    int filled = total <= 0 ? 0 : Math.min(BAR, step * BAR / total);
    return "[" + "#".repeat(filled) + "-".repeat(BAR - filled) + "] " + (total <= 0 ? 0 : step * 100 / total) + "%";
  }
}
