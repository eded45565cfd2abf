package dev.genmesh.launcher.fault;

import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import redis.embedded.RedisServer;

/**
 * One region's own stores in a JVM of their own, so that a test can SIGKILL them with the rest of
 * the region ({@link RegionKilledAndCutOffTest}): PostgreSQL with logical WAL (its log is replicated to
 * the peer region), Redis and the S3-compatible object store, each on the port it is given and
 * with its data in {@code dir}, so that a start after a kill finds both where the region expects
 * them. Arguments: {@code dir pgPort redisPort s3Port database bucket...}. Prints {@code READY}.
 */
public final class RegionStoresChild {
  private RegionStoresChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int pgPort = Integer.parseInt(args[1]);
    int redisPort = Integer.parseInt(args[2]);
    int s3Port = Integer.parseInt(args[3]);
    String database = args[4];
    List<String> buckets = Arrays.asList(args).subList(5, args.length);
    Path pgDir = Files.createDirectories(dir.resolve("pg"));
    EmbeddedPostgres postgres = EmbeddedStores.startPostgres(pgDir, pgPort, false, dir.resolve("pg.log"), true);
    EmbeddedStores.createDatabases(postgres, List.of(database));
    RedisServer redis = EmbeddedStores.redisServer(Files.createDirectories(dir.resolve("redis")), redisPort, false);
    redis.start();
    EmbeddedObjectStore objects = EmbeddedObjectStore.start(dir.resolve("s3"), buckets, s3Port);
    System.out.println("READY " + objects.endpoint());
    Thread.sleep(900_000); // killed by the test long before; if not, leave nothing behind
    objects.close();
    redis.stop();
    postgres.close();
  }

  /** The postmaster's and the Redis server's process ids under {@code dir} (they outlive a killed JVM). */
  static List<ProcessHandle> serverProcesses(Path dir) {
    List<ProcessHandle> servers = new java.util.ArrayList<>();
    for (Path pidFile : List.of(dir.resolve("pg").resolve("postmaster.pid"), dir.resolve("redis").resolve("redis.pid"))) {
      try {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
        ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(server -> {
          servers.add(server);
          servers.addAll(server.descendants().toList());
        });
      } catch (java.io.IOException | RuntimeException e) {
        // no such server running: nothing to kill
      }
    }
    return servers;
  }
}
