package dev.genmesh.region.scheduler;

import dev.genmesh.region.requests.RequestRow;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The rows this node assigned lately, by request id: what a result of that attempt needs for its
 * safety check (prompt, size, trace), so that the check can run before anything is written
 * (region-node/SAFETY.md, "Checked before it is written"). A hint, never the truth: no entry for
 * the attempt (the result came to another node of the region, the node restarted, or the entry
 * was evicted) sends the result the long way, and the log's compare-and-set decides either way.
 * Bounded: the oldest entries go first.
 */
public final class AssignedRows {
  /** About a node's running attempts many times over; an entry is a row without images (about 1 KB). */
  static final int MAX_ROWS = 8192;

  private final int maxRows;
  private final Map<String, RequestRow> rows = new LinkedHashMap<>();

  public AssignedRows() {
    this(MAX_ROWS);
  }

  AssignedRows(int maxRows) {
    this.maxRows = maxRows;
  }

  /** Remembers an assigned row (its attempt is the current one). */
  public synchronized void put(RequestRow row) {
    rows.remove(row.id()); // a new attempt goes to the back
    rows.put(row.id(), row);
    if (rows.size() > maxRows) {
      var oldest = rows.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }

  /** Takes the row of this attempt out; empty when there is none (or only another attempt's, also taken out). */
  public synchronized Optional<RequestRow> take(String id, int attempt) {
    RequestRow row = rows.remove(id);
    return row != null && row.attempt() == attempt ? Optional.of(row) : Optional.empty();
  }

  synchronized int size() {
    return rows.size();
  }
}
