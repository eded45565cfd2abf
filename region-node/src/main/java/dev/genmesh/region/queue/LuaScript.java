package dev.genmesh.region.queue;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One Lua script of {@code dev/genmesh/region/lua/}, with {@code common.lua} in front. Runs by
 * EVALSHA and falls back to EVAL when Redis does not know it (a restarted or flushed server).
 * Every script takes its keys from the prefix in ARGV[1], so it passes no KEYS.
 */
final class LuaScript {
  private static final String FOLDER = "/dev/genmesh/region/lua/";

  private final String source;
  private final String sha;

  private LuaScript(String source) {
    this.source = source;
    this.sha = sha1(source);
  }

  static LuaScript load(String name) {
    return new LuaScript(read("common.lua") + "\n" + read(name + ".lua"));
  }

  Future<Response> run(RedisAPI api, List<String> args) {
    return api.evalsha(withHead(sha, args)).recover(err -> {
      if (String.valueOf(err.getMessage()).startsWith("NOSCRIPT")) {
        return api.eval(withHead(source, args));
      }
      return Future.failedFuture(err);
    });
  }

  private static List<String> withHead(String script, List<String> args) {
    List<String> all = new ArrayList<>(args.size() + 2);
    all.add(script);
    all.add("0");
    all.addAll(args);
    return all;
  }

  private static String read(String file) {
    try (InputStream in = LuaScript.class.getResourceAsStream(FOLDER + file)) {
      if (in == null) {
        throw new IllegalStateException("Lua script missing: " + FOLDER + file);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read Lua script " + FOLDER + file, e);
    }
  }

  private static String sha1(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
