package dev.genmesh.users;

import java.time.Instant;
import java.util.List;

/**
 * An API key as the user database knows it: never the key itself, only its public id and scopes.
 *
 * @param tiers the tiers the key may submit to; empty: every tier its user has
 * @param admin the key may use the admin API
 * @param revokedAt null while the key works
 */
public record ApiKey(String id, String userId, List<String> tiers, boolean admin, Instant createdAt, Instant revokedAt) {
  public ApiKey {
    tiers = List.copyOf(tiers);
  }

  public boolean revoked() {
    return revokedAt != null;
  }
}
