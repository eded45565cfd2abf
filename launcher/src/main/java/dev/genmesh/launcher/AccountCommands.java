package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.users.ApiKey;
import dev.genmesh.users.IssuedKey;
import dev.genmesh.users.User;
import dev.genmesh.users.UserDbPromotion;
import dev.genmesh.users.UserStore;
import dev.genmesh.users.UserStores;
import dev.genmesh.users.UsersFailure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code genmesh users add|list|disable} and {@code genmesh keys issue|revoke|list}: accounts and
 * API keys in the configured user database ({@code users.*}; the writes go to the primary). A key
 * is printed once, when issued, and stored only as its SHA-256.
 */
final class AccountCommands {
  private AccountCommands() {}

  @Command(name = "users", mixinStandardHelpOptions = true, description = "Accounts in the user database.",
      subcommands = {AddUser.class, ListUsers.class, DisableUser.class, SetQuota.class, PromoteStandby.class})
  static final class Users implements Runnable {
    @Override
    public void run() {
      picocli.CommandLine.usage(this, System.out);
    }
  }

  @Command(name = "keys", mixinStandardHelpOptions = true, description = "API keys in the user database.",
      subcommands = {IssueKey.class, RevokeKey.class, ListKeys.class})
  static final class Keys implements Runnable {
    @Override
    public void run() {
      picocli.CommandLine.usage(this, System.out);
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a user.")
  static final class AddUser implements Runnable {
    @Mixin CommonOptions common;
    @Parameters(index = "0", paramLabel = "USER", description = "The new user's id (lowercase letters, digits, . _ -).")
    String id;
    @Option(names = "--tiers", split = ",", paramLabel = "TIER", description = "Tiers the user may use (default: all).")
    List<String> tiers = List.of();

    @Override
    public void run() {
      User user = withStore(common, store -> store.addUser(id, tiers));
      System.out.println("user " + user.id() + " added, tiers " + String.join(", ", user.tiers()));
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List users.")
  static final class ListUsers implements Runnable {
    @Mixin CommonOptions common;

    @Override
    public void run() {
      List<User> users = withStore(common, UserStore::users);
      PrintStream out = System.out;
      out.printf("%-24s %-8s %-18s %s%n", "USER", "STATE", "TIERS", "CREATED");
      users.forEach(u -> out.printf("%-24s %-8s %-18s %s%n", u.id(), u.enabled() ? "enabled" : "disabled",
          String.join(",", u.tiers()), u.createdAt()));
    }
  }

  @Command(name = "disable", mixinStandardHelpOptions = true,
      description = "Disable a user: their keys stop working within users.cache_ms on every edge.")
  static final class DisableUser implements Runnable {
    @Mixin CommonOptions common;
    @Parameters(index = "0", paramLabel = "USER")
    String id;

    @Override
    public void run() {
      User user = withStore(common, store -> store.disableUser(id));
      System.out.println("user " + user.id() + " disabled at " + user.disabledAt());
    }
  }

  @Command(name = "quota", mixinStandardHelpOptions = true,
      description = "Set a user's fast/turbo GPU-seconds per month (users.gpu_quota.seconds_per_month is the default).")
  static final class SetQuota implements Runnable {
    @Mixin CommonOptions common;
    @Parameters(index = "0", paramLabel = "USER")
    String id;
    @Option(names = "--gpu-seconds", paramLabel = "N", description = "GPU-seconds per calendar month (0: fast and turbo refused).")
    Long seconds;
    @Option(names = "--default", description = "Back to the configured default.")
    boolean reset;

    @Override
    public void run() {
      if ((seconds == null) == !reset) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "give --gpu-seconds N or --default");
      }
      withStore(common, store -> store.setGpuQuota(id, reset ? null : seconds));
      System.out.println("user " + id + ": " + (reset ? "the default GPU quota (users.gpu_quota.seconds_per_month)"
          : seconds + " GPU-seconds per month for fast and turbo"));
    }
  }

  @Command(name = "promote", mixinStandardHelpOptions = true,
      description = "Promote a standby of the user database after its primary was lost (docs/dr.md). Refused while"
          + " a primary runs, or while another standby cannot be reached (it may hold the last writes), unless --force.")
  static final class PromoteStandby implements Runnable {
    @Mixin CommonOptions common;
    @Option(names = "--region", paramLabel = "REGION", description = "The standby to promote (default: the most advanced).")
    String region;
    @Option(names = "--force", description = "Promote even if a standby cannot be reached: what only it held may be lost.")
    boolean force;

    @Override
    public void run() {
      GenmeshConfig config = common.loadConfig();
      Vertx vertx = Vertx.vertx();
      try {
        UserDbPromotion.Outcome done = Mesh.await(UserDbPromotion.promote(vertx, config.users(),
            java.util.Optional.ofNullable(region), force), "promote a standby of the user database");
        System.out.println(done.promoted() + " is the user database's primary now (" + done.tookMs() + " ms); following it: "
            + (done.following().isEmpty() ? "no standby" : String.join(", ", done.following())));
      } finally {
        Mesh.await(vertx.close(), "stop");
      }
    }
  }

  @Command(name = "issue", mixinStandardHelpOptions = true, description = "Issue an API key; it is shown once.")
  static final class IssueKey implements Runnable {
    @Mixin CommonOptions common;
    @Option(names = "--user", required = true, paramLabel = "USER")
    String user;
    @Option(names = "--tiers", split = ",", paramLabel = "TIER", description = "Limit the key to these tiers (default: the user's).")
    List<String> tiers = List.of();
    @Option(names = "--admin", description = "The key may use the admin API (/v1/admin) and see every user's generations.")
    boolean admin;

    @Override
    public void run() {
      IssuedKey issued = withStore(common, store -> store.issueKey(user, tiers, admin));
      System.out.println("key " + issued.key().id() + " issued to " + user + (admin ? " (admin)" : "")
          + ". It is shown this once and stored only as a hash:");
      System.out.println(issued.secret());
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a key: refused within users.cache_ms on every edge.")
  static final class RevokeKey implements Runnable {
    @Mixin CommonOptions common;
    @Parameters(index = "0", paramLabel = "KEY_ID", description = "The key's id (from keys list; the part after gmk_).")
    String id;

    @Override
    public void run() {
      ApiKey key = withStore(common, store -> store.revokeKey(id));
      System.out.println("key " + key.id() + " of " + key.userId() + " revoked at " + key.revokedAt());
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never the keys themselves).")
  static final class ListKeys implements Runnable {
    @Mixin CommonOptions common;
    @Option(names = "--user", paramLabel = "USER", description = "Only this user's keys.")
    String user;

    @Override
    public void run() {
      List<ApiKey> keys = withStore(common, store -> store.keys(user));
      PrintStream out = System.out;
      out.printf("%-14s %-24s %-8s %-18s %s%n", "KEY", "USER", "STATE", "TIERS", "ADMIN");
      keys.forEach(k -> out.printf("%-14s %-24s %-8s %-18s %s%n", k.id(), k.userId(), k.revoked() ? "revoked" : "active",
          k.tiers().isEmpty() ? "(user's)" : String.join(",", k.tiers()), k.admin() ? "admin" : ""));
    }
  }

  /** Runs one call against the configured user database (migrated first) and answers its result. */
  static <T> T withStore(CommonOptions common, Function<UserStore, Future<T>> call) {
    GenmeshConfig config = common.loadConfig();
    Vertx vertx = Vertx.vertx();
    try {
      UserStore store = UserStores.open(vertx, config.users());
      try {
        return Mesh.await(store.migrate().compose(v -> call.apply(store)), "reach the user database's primary (of "
            + config.users().databases().keySet() + ", " + config.users().primary().database() + ")");
      } finally {
        store.close();
      }
    } catch (IllegalStateException e) {
      if (e.getCause() instanceof UsersFailure refused) {
        throw new IllegalStateException(refused.getMessage(), refused);
      }
      throw e;
    } finally {
      Mesh.await(vertx.close(), "stop");
    }
  }
}
