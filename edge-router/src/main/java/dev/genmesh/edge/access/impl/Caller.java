package dev.genmesh.edge.access.impl;

import java.util.List;

/**
 * Who is calling, as the edge established it for this request.
 *
 * @param user the user id; {@code anonymous} for a caller without a key where keys are not required
 * @param admin may use the admin API and see every user's generations
 * @param tiers the tiers the caller may submit to; null: every tier
 */
public record Caller(String user, boolean admin, List<String> tiers) {
  public static final String ANONYMOUS = "anonymous";

  public static Caller anonymous() {
    return new Caller(ANONYMOUS, false, null);
  }

  public boolean mayUse(String tier) {
    return tiers == null || tiers.contains(tier);
  }

  /** Owns the request whose owner is {@code owner}, or may see it anyway (an admin). */
  public boolean maySee(String owner) {
    return admin || user.equals(owner);
  }
}
