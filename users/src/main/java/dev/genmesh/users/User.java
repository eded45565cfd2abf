package dev.genmesh.users;

import java.time.Instant;
import java.util.List;

/**
 * An account.
 *
 * @param tiers the tiers it may submit to (wire names)
 * @param disabledAt when it was disabled (its keys stop working); null while enabled
 */
public record User(String id, List<String> tiers, Instant disabledAt, Instant createdAt) {
  public User {
    tiers = List.copyOf(tiers);
  }

  public boolean enabled() {
    return disabledAt == null;
  }
}
