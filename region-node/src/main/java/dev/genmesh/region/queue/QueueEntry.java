package dev.genmesh.region.queue;

import dev.genmesh.protocol.Tier;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A request as the Redis queue needs it: where it goes, whose it is, and what a worker needs to
 * run it (the claim script matches workers against this; see {@code lua/common.lua}).
 *
 * @param notBeforeMs a retry's backoff end (epoch ms); 0 or the past = claimable now
 * @param requestClass the routing-matrix class, or null when the matrix does not constrain it
 * @param vramMb estimated memory, 0 = unknown
 * @param minVramMb larger_vram hint: only a worker with more free memory than this (0 = none)
 * @param excludedWorkers different_worker hint: workers that must not get it
 * @param dropLease true for a retry: a lease left behind by the attempt that failed is deleted
 * @param batchKey what a request must share to join another's TensorFlow batch
 *     ({@link dev.genmesh.protocol.WorkerMessages.BatchHint#key()}); null = unknown
 * @param images the request's batch_size
 */
public record QueueEntry(
    String id,
    Tier tier,
    String user,
    int priority,
    long notBeforeMs,
    String model,
    String requestClass,
    long vramMb,
    long minVramMb,
    List<String> excludedWorkers,
    boolean dropLease,
    String batchKey,
    int images) {

  String metaJson() {
    JsonObject meta = new JsonObject().put("t", tier.wireName()).put("u", user).put("p", priority).put("m", model);
    if (requestClass != null) {
      meta.put("c", requestClass);
    }
    if (vramMb > 0) {
      meta.put("v", vramMb);
    }
    if (minVramMb > 0) {
      meta.put("mv", minVramMb);
    }
    if (!excludedWorkers.isEmpty()) {
      meta.put("x", new JsonArray(List.copyOf(excludedWorkers)));
    }
    if (batchKey != null) {
      meta.put("b", batchKey).put("n", images);
    }
    if (dropLease) {
      meta.put("d", 1);
    }
    return meta.encode();
  }
}
