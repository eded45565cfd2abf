package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The load's users on a mesh with a user database: {@code chaos-1..n}, each with a key for every tier. */
public final class LoadUsers {
  private LoadUsers() {}

  /** Adds the users (an existing one is kept) and issues a key to each, through the admin API; the keys. */
  public static List<String> make(ChaosHttp admin, int count) {
    JsonArray tiers = new JsonArray(Load.TIERS);
    List<String> keys = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String user = "chaos-" + i;
      ChaosHttp.Answer added = admin.post("/v1/admin/users", new JsonObject().put("id", user).put("tiers", tiers));
      if (added.status() != 201 && added.status() != 409) {
        throw new IllegalStateException("could not add user " + user + ": HTTP " + added.status() + " " + added.body());
      }
      ChaosHttp.Answer key = admin.post("/v1/admin/keys", new JsonObject().put("user", user).put("tiers", tiers));
      if (key.status() != 201) {
        throw new IllegalStateException("could not issue a key to " + user + ": HTTP " + key.status() + " " + key.body());
      }
      keys.add(key.json().getString("key"));
    }
    return keys;
  }
}
