package dev.genmesh.launcher.chaos;

import dev.genmesh.embedded.EmbeddedRedisHa;
import dev.genmesh.embedded.EmbeddedStores;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * The two Redis servers of {@code genmesh up} (the first master and its replica) and the sentinel
 * over them, for the {@code redis-failover} experiment: which one is master now (the sentinel's
 * answer), SIGKILL it by the pid in its directory, and start it again on its port as a replica of
 * the new master (the sentinel would demote it anyway), so that the pair is whole for the next run.
 * Blocking: call it off the event loop.
 */
public final class RedisNodes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisNodes.class);
  private final Map<Integer, Path> dirByPort = new LinkedHashMap<>();
  private final int sentinelPort;
  private final boolean durable;
  private final List<RedisServer> restarted = new ArrayList<>();

  public RedisNodes(Path dataDir, int masterPort, EmbeddedRedisHa ha, boolean durable) {
    dirByPort.put(masterPort, dataDir.resolve("redis"));
    dirByPort.put(ha.replicaPort(), dataDir.resolve(EmbeddedRedisHa.REPLICA_DIR));
    this.sentinelPort = ha.sentinelPort();
    this.durable = durable;
  }

  /** The master's port, as the sentinel reports it. */
  public int masterPort() {
    List<String> reply = sentinel("SENTINEL", "get-master-addr-by-name", EmbeddedRedisHa.MASTER_NAME);
    if (reply.size() < 2) {
      throw new IllegalStateException("the sentinel knows no master '" + EmbeddedRedisHa.MASTER_NAME + "': " + reply);
    }
    return Integer.parseInt(reply.get(1));
  }

  /** {@code {master_port, sentinel_port, servers: {port: pid or null}}}. */
  public JsonObject describe() {
    JsonObject servers = new JsonObject();
    dirByPort.forEach((port, dir) -> servers.put(String.valueOf(port), pid(dir).orElse(null)));
    return new JsonObject().put("master_port", masterPort()).put("sentinel_port", sentinelPort).put("servers", servers);
  }

  /** SIGKILLs the master now; its port and pid. */
  public JsonObject killMaster() {
    int port = masterPort();
    long pid = pid(dirByPort.get(port)).orElseThrow(() -> new IllegalStateException("no live Redis on port " + port));
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    LOG.warn("chaos: SIGKILLed the Redis master on port {} (pid {})", port, pid);
    return new JsonObject().put("port", port).put("pid", pid);
  }

  /** Starts every server that is down again, as a replica of the master now. */
  public synchronized JsonObject restartDead() {
    int master = masterPort();
    JsonObject started = new JsonObject();
    for (Map.Entry<Integer, Path> server : dirByPort.entrySet()) {
      if (pid(server.getValue()).isPresent() || server.getKey() == master) {
        continue;
      }
      try {
        RedisServer redis = EmbeddedStores.redisServer(server.getValue(), server.getKey(), durable,
            "replicaof 127.0.0.1 " + master);
        redis.start();
        restarted.add(redis);
        started.put(String.valueOf(server.getKey()), "replica of " + master);
        LOG.info("chaos: Redis on port {} started again as a replica of {}", server.getKey(), master);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return started;
  }

  private static Optional<Long> pid(Path dir) {
    try {
      long pid = Long.parseLong(Files.readAllLines(EmbeddedStores.redisPidFile(dir)).get(0).trim());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(ProcessHandle::pid);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** One command to the sentinel in RESP; the bulk strings of an array reply (or the one line). */
  private List<String> sentinel(String... args) {
    try (Socket socket = new Socket("127.0.0.1", sentinelPort)) {
      socket.setSoTimeout(5_000);
      StringBuilder command = new StringBuilder("*" + args.length + "\r\n");
      for (String arg : args) {
        command.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(command.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String first = in.readLine();
      List<String> values = new ArrayList<>();
      if (first == null || !first.startsWith("*")) {
        values.add(String.valueOf(first));
        return values;
      }
      int count = Integer.parseInt(first.substring(1));
      for (int i = 0; i < count; i++) {
        in.readLine(); // $length
        values.add(in.readLine());
      }
      return values;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot ask the sentinel on port " + sentinelPort, e);
    }
  }

  @Override
  public synchronized void close() {
    restarted.forEach(redis -> {
      try {
        redis.stop();
      } catch (IOException | RuntimeException e) {
        LOG.warn("a restarted Redis did not stop cleanly: {}", e.toString());
      }
    });
  }
}
