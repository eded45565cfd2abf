package dev.genmesh.launcher.chaos.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;

/** The readable table of a chaos report: one line per run, then every failed check. */
public final class Report {
  private Report() {}

  public static void print(JsonArray runs, PrintStream out) {
    out.printf("%n%-20s %3s %-6s %8s %6s %6s %9s  %s%n", "experiment", "run", "result", "elapsed", "acked", "done",
        "p95 ms", "measures");
    for (Object o : runs) {
      JsonObject run = (JsonObject) o;
      JsonObject m = run.getJsonObject("measures");
      StringBuilder own = new StringBuilder();
      m.forEach(e -> {
        if (!java.util.Set.of("submitted", "acknowledged", "completed", "latency_p50_ms", "latency_p95_ms").contains(e.getKey())) {
          own.append(e.getKey()).append('=').append(e.getValue()).append(' ');
        }
      });
      out.printf("%-20s %3d %-6s %7.1fs %6.0f %6.0f %9.0f  %s%n", run.getString("experiment"), run.getInteger("run"),
          run.getBoolean("passed") ? "PASS" : "FAIL", run.getDouble("elapsed_s"), m.getDouble("acknowledged", -1.0),
          m.getDouble("completed", -1.0), m.getDouble("latency_p95_ms", -1.0), own.toString().trim());
    }
    for (Object o : runs) {
      JsonObject run = (JsonObject) o;
      run.getJsonArray("checks").forEach(c -> {
        JsonObject check = (JsonObject) c;
        if (!check.getBoolean("passed")) {
          out.printf("FAILED %s #%d: %s (%s)%n", run.getString("experiment"), run.getInteger("run"),
              check.getString("name"), check.getString("detail"));
        }
      });
    }
  }
}
