package dev.genmesh.edge.access.impl;

import dev.genmesh.edge.regions.impl.RegionClient;
import dev.genmesh.users.UserStore;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Whose a request is. The owner is recorded with the request in its region's log ({@code
 * requests.user_id}, written by the same commit as the row, and travelling with the row wherever
 * it is replicated or adopted) and shown in the regional view; the edge remembers it per id, since
 * it never changes: the owner of a request this edge accepted is known at once, any other costs
 * one regional view, once. When the region cannot answer (it may be down while a peer serves
 * copies of its images), the owner recorded in the user database's generation index answers.
 */
public final class Owners {
  static final int MAX_REMEMBERED = 100_000;

  private final UserStore users;
  private final Map<String, String> ownerById = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > MAX_REMEMBERED;
    }
  };

  /** @param users the generation index to fall back on, or null */
  public Owners(UserStore users) {
    this.users = users;
  }

  /** The request was just accepted for {@code owner}. */
  public synchronized void accepted(String requestId, String owner) {
    ownerById.put(requestId, owner);
  }

  /**
   * The owner of {@code requestId}, asked of its region when not known here; empty when the region
   * does not hold it. Fails when the region cannot answer.
   */
  public Future<Optional<String>> ownerOf(RegionClient region, String requestId) {
    String known;
    synchronized (this) {
      known = ownerById.get(requestId);
    }
    if (known != null) {
      return Future.succeededFuture(Optional.of(known));
    }
    Future<Optional<String>> asked = region.view(requestId).compose(response -> {
      if (response.statusCode() >= 500) {
        return Future.failedFuture(new IllegalStateException("region " + region.name() + " answered " + response.statusCode()));
      }
      if (response.statusCode() == 404) {
        return Future.succeededFuture(Optional.empty());
      }
      JsonObject view = response.statusCode() == 200 ? object(response.bodyAsString()) : null;
      if (view == null || !(view.getValue("user") instanceof String owner)) {
        return Future.failedFuture(new IllegalStateException("region " + region.name() + " answered "
            + response.statusCode() + " without the request's owner"));
      }
      accepted(requestId, owner);
      return Future.succeededFuture(Optional.of(owner));
    });
    return asked.recover(regionFailed -> users == null ? Future.failedFuture(regionFailed) : users.generation(requestId)
        .compose(entry -> entry.<Future<Optional<String>>>map(e -> Future.succeededFuture(Optional.of(e.userId())))
            .orElseGet(() -> Future.failedFuture(regionFailed))));
  }

  private static JsonObject object(String body) {
    try {
      return body != null && Json.decodeValue(body) instanceof JsonObject json ? json : null;
    } catch (DecodeException e) {
      return null;
    }
  }
}
