package dev.genmesh.edge.access.impl;

import io.vertx.core.json.JsonObject;

/** What the edge tells about the generations it hands out: who owns each, and their status as seen. */
public interface GenerationIndex {
  /** The region accepted a submit of {@code user}'s and answered {@code view}. */
  void accepted(String user, JsonObject view);

  /** The owner (or an admin) just read {@code view}. */
  void seen(JsonObject view);
}
