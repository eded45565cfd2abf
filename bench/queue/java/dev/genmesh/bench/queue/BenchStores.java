package dev.genmesh.bench.queue;

import dev.genmesh.embedded.EmbeddedObjectStore;
import dev.genmesh.embedded.EmbeddedStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import redis.embedded.RedisServer;

/**
 * Starts the embedded Redis 6.2 and PostgreSQL 14 that every side of the benchmark shares, the
 * way {@code genmesh up} runs them (PG fsync, synchronous_commit and full_page_writes on; Redis
 * append-only file fsynced on every write, {@code appendfsync always}), a second Redis with the
 * append-only file fsynced once a second ({@code everysec}, the cost of {@code always} is the
 * difference), plus a second PostgreSQL with those three off for the
 * labelled non-durable runs (they are command-line settings of the server, which ALTER SYSTEM
 * cannot override, hence two servers rather than one switched), and the S3-compatible object store
 * (S3Proxy, in this JVM, bucket {@code genmesh-us-west}) the images go to. Writes ports and pids to
 * {@code <work_dir>/stores.env}, and the result PNG ({@link BenchSpec#png()}) to
 * {@code <work_dir>/bench.png} so that the BullMQ side hands in the same bytes as genmesh's
 * workers; keeps everything up until {@code <work_dir>/stop} appears or the process is terminated.
 *
 * <p>Arguments: {@code work_dir=DIR}.
 */
public final class BenchStores {
  private BenchStores() {}

  static final String BUCKET = "genmesh-us-west";

  public static void main(String[] args) throws Exception {
    Path work = Path.of(new BenchArgs(args).required("work_dir")).toAbsolutePath();
    Path pgDir = Files.createDirectories(work.resolve("pg"));
    Path pgLooseDir = Files.createDirectories(work.resolve("pg-nofsync"));
    Path redisDir = Files.createDirectories(work.resolve("redis"));
    EmbeddedPostgres pg = EmbeddedStores.startPostgres(pgDir, EmbeddedStores.freePort(), true);
    EmbeddedPostgres pgLoose = EmbeddedStores.startPostgres(pgLooseDir, EmbeddedStores.freePort(), false);
    int redisPort = EmbeddedStores.freePort();
    RedisServer redis = EmbeddedStores.redisServer(redisDir, redisPort, true); // append-only, fsync on every write
    redis.start();
    Path redisEverysecDir = Files.createDirectories(work.resolve("redis-everysec"));
    int redisEverysecPort = EmbeddedStores.freePort();
    // the last appendfsync line of the configuration wins
    RedisServer redisEverysec = EmbeddedStores.redisServer(redisEverysecDir, redisEverysecPort, true, "appendfsync everysec");
    redisEverysec.start();
    EmbeddedObjectStore objects = EmbeddedObjectStore.start(Files.createDirectories(work.resolve("s3")),
        List.of(BUCKET));
    Path png = Files.write(work.resolve("bench.png"), BenchSpec.png());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      objects.close();
      stop(redisEverysec, pg);
      stop(redis, pgLoose);
    }, "bench-stores-stop"));

    long pgPid = findPid(pgDir + " ", "postgres").orElse(-1L);
    long pgLoosePid = findPid(pgLooseDir + " ", "postgres").orElse(-1L);
    long redisPid = findPid("127.0.0.1:" + redisPort, "redis").orElse(-1L);
    long redisEverysecPid = findPid("127.0.0.1:" + redisEverysecPort, "redis").orElse(-1L);
    Path env = work.resolve("stores.env");
    Path temp = work.resolve("stores.env.tmp");
    Files.writeString(temp, "REDIS_PORT=" + redisPort + "\nPG_PORT=" + pg.getPort() + "\nREDIS_PID=" + redisPid
        + "\nPG_PID=" + pgPid + "\nPG_NOFSYNC_PORT=" + pgLoose.getPort() + "\nPG_NOFSYNC_PID=" + pgLoosePid
        + "\nS3_ENDPOINT=" + objects.endpoint() + "\nS3_CREDENTIALS=" + objects.credentialsFile()
        + "\nREDIS_EVERYSEC_PORT=" + redisEverysecPort + "\nREDIS_EVERYSEC_PID=" + redisEverysecPid
        + "\nS3_BUCKET=" + BUCKET + "\nPNG_FILE=" + png + "\n");
    Files.move(temp, env);
    System.out.printf("stores up: redis 127.0.0.1:%d (pid %d, appendfsync always), redis 127.0.0.1:%d (pid %d,"
        + " appendfsync everysec), postgres 127.0.0.1:%d (pid %d, fsync on),"
        + " postgres 127.0.0.1:%d (pid %d, fsync off), data in %s%n",
        redisPort, redisPid, redisEverysecPort, redisEverysecPid, pg.getPort(), pgPid, pgLoose.getPort(), pgLoosePid, work);

    Path stopFile = work.resolve("stop");
    while (!Files.exists(stopFile)) {
      Thread.sleep(200);
    }
    System.exit(0); // the shutdown hook stops both stores
  }

  private static void stop(RedisServer redis, EmbeddedPostgres... servers) {
    try {
      redis.stop();
    } catch (IOException | RuntimeException e) {
      System.err.println("redis stop failed: " + e);
    }
    for (EmbeddedPostgres server : servers) {
      try {
        server.close();
      } catch (IOException | RuntimeException e) {
        System.err.println("postgres stop failed: " + e);
      }
    }
    System.out.println("stores stopped");
  }

  /** The pid of the process whose command line holds {@code marker} and {@code program} (read from /proc). */
  private static Optional<Long> findPid(String marker, String program) throws IOException {
    long self = ProcessHandle.current().pid();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs.filter(proc -> proc.getFileName().toString().chars().allMatch(Character::isDigit))
          .filter(proc -> Long.parseLong(proc.getFileName().toString()) != self)
          .filter(proc -> {
            try {
              String line = Files.readString(proc.resolve("cmdline")).replace('\0', ' ');
              return line.contains(marker) && line.contains(program);
            } catch (IOException | RuntimeException e) {
              return false; // gone meanwhile, or not ours to read
            }
          })
          .map(proc -> Long.parseLong(proc.getFileName().toString()))
          .findFirst();
    }
  }
}
