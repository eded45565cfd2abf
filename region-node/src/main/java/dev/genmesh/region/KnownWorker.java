package dev.genmesh.region;

import java.time.Instant;
import java.util.List;

/** A worker as the region node last heard of it (from its heartbeat). */
public record KnownWorker(
    String workerId, String gpuClass, List<String> loadedModels, List<String> activeRequests, Instant lastSeen) {}
