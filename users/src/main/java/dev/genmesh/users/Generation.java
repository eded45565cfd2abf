package dev.genmesh.users;

import java.time.Instant;

/** One entry of a user's generation index: where the request lives and its status as last seen by an edge. */
public record Generation(String id, String userId, String region, String tier, String status, Instant createdAt) {}
