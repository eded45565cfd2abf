package dev.genmesh.users;

import java.util.List;

/**
 * What a presented key may do, as the user database says now: the caller's user id, whether the
 * key may call the admin API, and the tiers it may submit to (the key's scope within its user's
 * entitlement). A revoked key or a disabled user's key has no grant at all.
 */
public record KeyGrant(String userId, String keyId, List<String> tiers, boolean admin) {
  public KeyGrant {
    tiers = List.copyOf(tiers);
  }

  public boolean allowsTier(String tier) {
    return tiers.contains(tier);
  }
}
