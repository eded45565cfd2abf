package dev.genmesh.bench.queue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Prints the results of one run.sh as a Markdown table with the ratios (docs/benchmarks.md takes
 * it as is). Arguments: {@code results=FILE [git=REV] [out=FILE]}.
 */
public final class QueueReport {
  private QueueReport() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = new BenchArgs(args);
    List<JsonObject> rows = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(a.required("results")))) {
      if (!line.isBlank()) {
        rows.add(new JsonObject(line));
      }
    }
    StringBuilder md = new StringBuilder();
    machine(md, rows, a.string("git", "unknown"));
    table(md, rows);
    lightTable(md, rows);
    ratios(md, rows);
    targets(md, rows);
    checks(md, rows);
    commands(md, rows);
    System.out.print(md);
    String out = a.string("out", "");
    if (!out.isEmpty()) {
      Files.writeString(Path.of(out), md.toString());
    }
  }

  private static void machine(StringBuilder md, List<JsonObject> rows, String git) throws Exception {
    String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
    JsonObject first = rows.isEmpty() ? new JsonObject() : rows.get(0);
    String node = rows.stream().filter(r -> r.containsKey("node_version")).findFirst()
        .map(r -> r.getString("node_version") + ", bullmq " + r.getString("bullmq_version")).orElse("not run");
    md.append(String.format(Locale.ROOT, "Machine: %d cores (%s), JDK %s, node %s; Redis 6.2.6 and PostgreSQL 14"
            + " embedded, loopback; genmesh at %s.%n", Runtime.getRuntime().availableProcessors(), cpu,
        System.getProperty("java.runtime.version"), node, git));
    md.append(String.format(Locale.ROOT, "Settings: N=%d measured after %d warm-up, C=%d closed-loop submitters,"
            + " W=%d workers, PG pool 16, lease 30 s. Load average (1/5/15 min) before the first run: %s, after the"
            + " last: %s.%n%n", first.getInteger("n", 0), first.getInteger("warmup", 0), first.getInteger("c", 0),
        first.getInteger("w", 0), first.getString("load_before", "?"), rows.get(rows.size() - 1).getString("load_after", "?")));
  }

  private static void table(StringBuilder md, List<JsonObject> rows) {
    md.append("| run | PG fsync | req/s | p50 ms | p95 ms | p99 ms | submit p50 ms | Redis cmds/req (scripts) |"
        + " PG commits/req | WAL flushes/req | CPU ms/req: app, PG, Redis | CPU ms/req, all processes (S3 store) |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for (JsonObject r : rows) {
      JsonObject lat = r.getJsonObject("latency", new JsonObject());
      JsonObject sub = r.getJsonObject("submit_latency");
      JsonObject cpu = r.getJsonObject("cpu", new JsonObject());
      boolean usesPg = r.containsKey("pg_commits_per_req") && r.getDouble("pg_commits_per_req") > 0;
      double app = cpu.getDouble("jvm_ms_per_req", cpu.getDouble("node_ms_per_req", 0.0));
      String appCpu = String.format(Locale.ROOT, "%.2f", app)
          + (cpu.containsKey("safety_ms_per_req") ? String.format(Locale.ROOT, " (+ %.2f safety JVM)", cpu.getDouble("safety_ms_per_req")) : "");
      md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s, %s, %.2f | %s |%n",
          r.getString("label"),
          r.getValue("fsync") == null || !usesPg ? "—" : (r.getBoolean("fsync") ? "on" : "off"),
          r.getLong("throughput_rps"), lat.getDouble("p50_ms"), lat.getDouble("p95_ms"), lat.getDouble("p99_ms"),
          sub == null ? "—" : String.format(Locale.ROOT, "%.1f", sub.getDouble("p50_ms")),
          r.getDouble("redis_cmds_per_req", 0.0) == 0 ? "—"
              : String.format(Locale.ROOT, "%.1f (%.2f)", r.getDouble("redis_cmds_per_req"), r.getDouble("redis_scripts_per_req")),
          usesPg ? String.format(Locale.ROOT, "%.2f", r.getDouble("pg_commits_per_req")) : "—",
          usesPg ? String.format(Locale.ROOT, "%.2f", r.getDouble("wal_syncs_per_req")) : "—",
          appCpu, usesPg ? String.format(Locale.ROOT, "%.2f", cpu.getDouble("pg_ms_per_req")) : "—",
          cpu.getDouble("redis_ms_per_req", 0.0),
          cpu.containsKey("s3_ms_per_req") ? String.format(Locale.ROOT, "%.2f (%.2f)", totalCpu(r), cpu.getDouble("s3_ms_per_req")) : "—"));
    }
    md.append('\n');
  }

  /** The light rounds: the same path at C=2 (or light_c), so the submit's own latency shows apart from CPU queueing. */
  private static void lightTable(StringBuilder md, List<JsonObject> rows) {
    if (rows.stream().noneMatch(r -> r.getJsonObject("light") != null)) {
      return;
    }
    md.append("Light load (after each step's measured round: a few closed-loop submitters, so the machine is not"
        + " saturated and a latency is the path's own, not a wait for a CPU):\n\n");
    md.append("| run | C | requests | req/s | p50 ms | p99 ms | submit p50 ms | submit p95 ms | submit p99 ms | load before |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (JsonObject r : rows) {
      JsonObject light = r.getJsonObject("light");
      if (light == null) {
        continue;
      }
      JsonObject lat = light.getJsonObject("latency");
      JsonObject sub = light.getJsonObject("submit_latency");
      md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %s |%n", r.getString("label"),
          light.getInteger("c"), light.getInteger("n"), light.getLong("throughput_rps"), lat.getDouble("p50_ms"),
          lat.getDouble("p99_ms"), sub.getDouble("p50_ms"), sub.getDouble("p95_ms"), sub.getDouble("p99_ms"),
          light.getString("load_before")));
    }
    md.append('\n');
  }

  private static void ratios(StringBuilder md, List<JsonObject> rows) {
    Optional<JsonObject> genmesh = genmesh(rows, true);
    Optional<JsonObject> loose = genmesh(rows, false);
    Optional<JsonObject> bullmqS3 = bullmq(rows, "s3");
    Optional<JsonObject> bullmqRedis = bullmq(rows, "redis");
    Optional<JsonObject> redis = find(rows, r -> r.getString("system").equals("floor-redis"));
    Optional<JsonObject> stores = find(rows, r -> r.getString("system").equals("floor-stores") && r.getBoolean("fsync"));
    Optional<JsonObject> storesLoose = find(rows, r -> r.getString("system").equals("floor-stores") && !r.getBoolean("fsync"));
    md.append("Ratios (throughput: genmesh ÷ other; p50 latency: genmesh ÷ other):\n\n");
    ratio(md, "genmesh ÷ BullMQ, image in the object store (the reference row)", genmesh, bullmqS3);
    ratio(md, "genmesh ÷ BullMQ, PNG in Redis", genmesh, bullmqRedis);
    ratio(md, "genmesh ÷ Redis floor", genmesh, redis);
    ratio(md, "genmesh ÷ stores floor (PG fsync on)", genmesh, stores);
    ratio(md, "genmesh, PG fsync off ÷ BullMQ, image in the object store", loose, bullmqS3);
    ratio(md, "genmesh, PG fsync off ÷ stores floor (fsync off)", loose, storesLoose);
    ratio(md, "genmesh, fsync on ÷ fsync off", genmesh, loose);
    ratio(md, "genmesh, Redis appendfsync always ÷ everysec (what always costs)", genmesh, genmesh(rows, true, "everysec"));
    ratio(md, "BullMQ with the object store, Redis appendfsync always ÷ everysec", bullmqS3, bullmq(rows, "s3", "everysec"));
    if (genmesh.isPresent() && bullmqS3.isPresent() && totalCpu(genmesh.get()) > 0 && totalCpu(bullmqS3.get()) > 0) {
      md.append(String.format(Locale.ROOT, "* CPU per request of all processes, BullMQ with the object store ÷ genmesh: ×%.3f"
          + " (the throughput ratio a CPU-bound machine would give, whatever else ran on it)%n",
          totalCpu(bullmqS3.get()) / totalCpu(genmesh.get())));
    }
  }

  /** CPU ms per request of every process that served it: the app (JVM or node), safety JVM, PG, Redis, object store. */
  private static double totalCpu(JsonObject row) {
    JsonObject cpu = row.getJsonObject("cpu", new JsonObject());
    if (!cpu.containsKey("s3_ms_per_req")) {
      return 0;
    }
    double sum = 0;
    // jvm_ms_per_req: genmesh's bench JVM; node_ms_per_req: BullMQ's Node.js process
    for (String key : List.of("jvm_ms_per_req", "node_ms_per_req", "safety_ms_per_req", "pg_ms_per_req", "redis_ms_per_req",
        "s3_ms_per_req")) {
      sum += cpu.getDouble(key, 0.0);
    }
    return sum;
  }

  /** Issue 12's figures ("What it must show"), each with its bound, from the rows of this run. */
  private static void targets(StringBuilder md, List<JsonObject> rows) {
    Optional<JsonObject> genmesh = genmesh(rows, true);
    Optional<JsonObject> external = find(rows, r -> r.getString("system").equals("genmesh") && r.getBoolean("fsync")
        && "always".equals(r.getString("redis_fsync", "always")) && r.getJsonObject("cpu", new JsonObject()).containsKey("safety_ms_per_req"));
    Optional<JsonObject> bullmqS3 = bullmq(rows, "s3");
    if (genmesh.isEmpty()) {
      return;
    }
    JsonObject g = genmesh.get();
    md.append("\nIssue 12's figures (genmesh, PG fsync on; bound in brackets):\n\n");
    bullmqS3.ifPresent(b -> target(md, "requests/s ÷ BullMQ with the image in the object store (>= 0.25, goal 1.0)",
        g.getLong("throughput_rps") / (double) b.getLong("throughput_rps"), 0.25, true));
    for (JsonObject row : external.isPresent() ? List.of(g, external.get()) : List.of(g)) {
      JsonObject cpu = row.getJsonObject("cpu");
      String safety = cpu.containsKey("safety_ms_per_req")
          ? String.format(Locale.ROOT, "safety service apart (%.2f ms in its JVM)", cpu.getDouble("safety_ms_per_req"))
          : "reference safety service in it";
      target(md, "region-node JVM CPU ms per request, " + safety + "; the bench JVM less its load generator's and virtual"
          + " workers' threads, GC and JIT in (<= 1)", cpu.getDouble("region_node_ms_per_req", cpu.getDouble("jvm_ms_per_req")), 1.0, false);
    }
    target(md, "PostgreSQL commits per request (<= 1.5)", g.getDouble("pg_commits_per_req"), 1.5, false);
    target(md, "claims per request at W=" + g.getInteger("w") + " (<= 1.1)", g.getDouble("claims_per_req"), 1.1, false);
    target(md, "p99 submit → 202 at C=" + g.getInteger("c") + ", ms (< 20; mostly waiting for a CPU on a saturated machine)",
        g.getJsonObject("submit_latency").getDouble("p99_ms"), 20.0, false);
    JsonObject light = g.getJsonObject("light");
    if (light != null) {
      JsonObject bullmqLight = bullmqS3.map(b -> b.getJsonObject("light")).orElse(null);
      target(md, "p99 submit → 202 at light load (C=" + light.getInteger("c") + " closed loop, " + light.getLong("throughput_rps")
              + " req/s), ms (< 20)" + (bullmqLight == null ? "" : String.format(Locale.ROOT,
              "; BullMQ's add() the same way: p99 %.1f ms", bullmqLight.getJsonObject("submit_latency").getDouble("p99_ms"))),
          light.getJsonObject("submit_latency").getDouble("p99_ms"), 20.0, false);
    }
    List<String> pngs = rows.stream().filter(r -> r.containsKey("png")).map(r -> r.getJsonObject("png").encode()).distinct().toList();
    md.append(pngs.size() == 1 ? "* the same PNG on every side that hands one in: " + pngs.get(0) + "\n"
        : "* **the sides handed in different PNGs**: " + pngs + "\n");
  }

  private static void target(StringBuilder md, String name, double value, double bound, boolean atLeast) {
    boolean met = atLeast ? value >= bound : value <= bound;
    md.append(String.format(Locale.ROOT, "* %s: %.3f, %s%n", name, value, met ? "met" : "**not met**"));
  }

  private static Optional<JsonObject> genmesh(List<JsonObject> rows, boolean fsync) {
    return genmesh(rows, fsync, "always");
  }

  /** The genmesh row with the in-JVM safety service on PostgreSQL fsync {@code fsync} and Redis {@code appendfsync}. */
  private static Optional<JsonObject> genmesh(List<JsonObject> rows, boolean fsync, String redisFsync) {
    return find(rows, r -> r.getString("system").equals("genmesh") && r.getBoolean("fsync") == fsync
        && redisFsync.equals(r.getString("redis_fsync", "always"))
        && !r.getJsonObject("cpu", new JsonObject()).containsKey("safety_ms_per_req"));
  }

  private static Optional<JsonObject> bullmq(List<JsonObject> rows, String result) {
    return bullmq(rows, result, "always");
  }

  private static Optional<JsonObject> bullmq(List<JsonObject> rows, String result, String redisFsync) {
    return find(rows, r -> r.getString("system").equals("bullmq") && result.equals(r.getString("result", "redis"))
        && redisFsync.equals(r.getString("redis_fsync", "always")));
  }

  private static void ratio(StringBuilder md, String name, Optional<JsonObject> a, Optional<JsonObject> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return;
    }
    double tput = a.get().getLong("throughput_rps") / (double) b.get().getLong("throughput_rps");
    double p50 = a.get().getJsonObject("latency").getDouble("p50_ms") / b.get().getJsonObject("latency").getDouble("p50_ms");
    md.append(String.format(Locale.ROOT, "* %s: throughput ×%.3f, p50 latency ×%.1f%n", name, tput, p50));
  }

  /** What each side's own bookkeeping says about the measured requests, and the genmesh claim traffic. */
  private static void checks(StringBuilder md, List<JsonObject> rows) {
    md.append("\nChecks:\n\n");
    for (JsonObject r : rows) {
      if (r.containsKey("log_check")) {
        JsonObject log = r.getJsonObject("log_check");
        md.append(String.format(Locale.ROOT, "* %s: %d of %d requests COMPLETED in the log, highest attempt %d,"
                + " %d events; %.2f claims per request (%.2f answered no work); %d failed submits, %d worker errors,"
                + " %d results answered other than completed%n",
            r.getString("label"), log.getLong("completed"), log.getLong("requests"), log.getInteger("max_attempt"),
            log.getLong("events"), r.getDouble("claims_per_req"), r.getDouble("no_work_per_req"),
            r.getInteger("failed_submits"), r.getInteger("worker_errors"), r.getInteger("results_not_completed", 0)));
        if (r.containsKey("jvm_threads_ms_per_req")) {
          md.append(String.format(Locale.ROOT, "  * %s: JVM CPU ms per request by thread (busiest): %s; GC and JIT"
                  + " threads: %s; region node (JVM less the load generator and the virtual workers): %.2f (%.2f with"
                  + " the workers' thread); region node heap allocated per request: %.1f KB%n", r.getString("label"),
              r.getJsonObject("jvm_threads_ms_per_req").encode(), r.getJsonObject("jvm_gc_jit_ms_per_req", new JsonObject()).encode(),
              r.getJsonObject("cpu").getDouble("region_node_ms_per_req", Double.NaN),
              r.getJsonObject("cpu").getDouble("region_node_with_workers_ms_per_req", Double.NaN),
              r.getDouble("region_node_kb_allocated_per_req", Double.NaN)));
        }
      } else if (r.containsKey("queue_check")) {
        md.append(String.format(Locale.ROOT, "* %s: queue counts after the run %s; %d worker errors%n",
            r.getString("label"), r.getJsonObject("queue_check").encode(), r.getInteger("worker_errors")));
      }
    }
  }

  /**
   * Redis commands per request by command, for genmesh and the Redis-using floors: the floor runs the
   * node's scripts, so the difference is what the node adds (empty claims, timers), not drift.
   */
  private static void commands(StringBuilder md, List<JsonObject> rows) {
    md.append("\nRedis commands per request, by command (INFO commandstats; scripts count their inner commands):\n\n");
    for (JsonObject r : rows) {
      String system = r.getString("system");
      if (!system.equals("genmesh") && !system.equals("floor-redis") && !system.equals("floor-stores")) {
        continue;
      }
      JsonObject by = r.getJsonObject("redis_by_command", new JsonObject());
      StringBuilder parts = new StringBuilder();
      for (String command : new java.util.TreeSet<>(by.fieldNames())) {
        double each = by.getDouble(command);
        if (each >= 0.005) {
          parts.append(parts.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.2f", command, each));
        }
      }
      String label = r.getString("label");
      if (system.equals("floor-stores")) {
        label += r.getBoolean("fsync", true) ? " (PG fsync on)" : " (PG fsync off)";
      }
      md.append(String.format(Locale.ROOT, "* %s: %s%n", label, parts));
    }
  }

  private static Optional<JsonObject> find(List<JsonObject> rows, Predicate<JsonObject> which) {
    return rows.stream().filter(which).findFirst();
  }
}
