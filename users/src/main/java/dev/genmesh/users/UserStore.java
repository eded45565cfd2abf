package dev.genmesh.users;

import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The user database, split by where a call may be served (docs/security.md, "The user database").
 * Reads go to this process's local copy; writes go to the primary. Today both are the same
 * database unless {@code users.local_region} names another copy; synchronous replication will
 * make every other region's copy a standby without changing a caller: a write completes only
 * once the standbys hold it, so a read after a write sees it in every region.
 *
 * <p>A caller's mistake fails the future with {@link UsersFailure}; anything else is the database
 * failing.
 */
public interface UserStore {

  // ---- reads: the local copy

  /** What the presented key may do now; empty for an unknown or revoked key or a disabled user. */
  Future<Optional<KeyGrant>> grantFor(String presentedKey);

  Future<Optional<User>> user(String id);

  Future<List<User>> users();

  /** The keys of one user, or of every user when {@code userId} is null, oldest first. */
  Future<List<ApiKey>> keys(String userId);

  /**
   * The user's generations, newest first, {@code limit} at most, after {@code cursor} (null: from
   * the newest); a malformed cursor fails with {@link UsersFailure.Kind#INVALID}.
   */
  Future<GenerationPage> generations(String userId, String cursor, int limit);

  /** The index entry of one request, whoever owns it. */
  Future<Optional<Generation>> generation(String requestId);

  /** How many generations the user had accepted since {@code since}, per tier. */
  Future<java.util.Map<String, Long>> generationCounts(String userId, Instant since);

  /**
   * The user's metered GPU time since {@code since} (fast and turbo), the generations whose GPU time
   * is not known yet, and the user's own quota.
   */
  Future<GpuUsage> gpuUsage(String userId, Instant since);

  // ---- writes: the primary

  /** A new account allowed {@code tiers}; {@link UsersFailure.Kind#CONFLICT} if the id is taken. */
  Future<User> addUser(String id, List<String> tiers);

  /** Disables the account: its keys stop working (within the edges' cache time). */
  Future<User> disableUser(String id);

  /**
   * A new key for an enabled user, scoped to {@code tiers} (empty: all the user's tiers) and
   * optionally admin; the answer holds the key itself, which is not stored anywhere.
   */
  Future<IssuedKey> issueKey(String userId, List<String> tiers, boolean admin);

  Future<ApiKey> revokeKey(String keyId);

  /** Adds an accepted request to its user's index (a repeat of the same id changes nothing). */
  Future<Void> recordGeneration(Generation generation);

  /** The request's status as an edge just saw it, if it changed. */
  Future<Void> updateStatus(String requestId, String status, Instant seenAt);

  /**
   * A generation ended as {@code status}; {@code gpuMs} is its GPU time when it completed (null when
   * it failed or was cancelled: not charged).
   */
  Future<Void> recordOutcome(String requestId, String status, Long gpuMs);

  /** The user's own fast/turbo GPU-seconds per month; null: the configured default. */
  Future<User> setGpuQuota(String userId, Long secondsPerMonth);

  /** Applies the user database's migrations (on the primary); call it at start-up, off the event loop. */
  Future<Void> migrate();

  Future<Void> close();
}
