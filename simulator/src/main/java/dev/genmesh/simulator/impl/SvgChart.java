package dev.genmesh.simulator.impl;

import dev.genmesh.simulator.PolicyKind;
import dev.genmesh.simulator.RunResult.TimelineRow;
import dev.genmesh.simulator.RunResult;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * A hand-written SVG of one scenario over the day: workers of every fleet (and the arrivals), the
 * autoscaled region's queue depth per tier, and its longest wait per minute per tier against the
 * tier's target. Depth and wait use log scales.
 */
public final class SvgChart {
  private static final int WIDTH = 1000;
  private static final int LEFT = 70;
  private static final int RIGHT = 70;
  private static final int PANEL = 200;
  private static final int GAP = 60;
  private static final int BUCKET_MINUTES = 5;
  private static final String[] TIER_COLOURS = {"#d62728", "#ff7f0e", "#1f77b4"};
  private static final String[] TIERS = {"turbo", "fast", "relax"};

  private final StringBuilder svg = new StringBuilder();

  private SvgChart() {}

  /** The chart of {@code runs} (one scenario; the autoscaled run's queues and waits). */
  public static String render(String title, List<RunResult> runs, double[] tierTargetsSeconds) {
    SvgChart chart = new SvgChart();
    int height = 50 + 3 * (PANEL + GAP);
    chart.svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
        WIDTH, height));
    chart.svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    chart.text(LEFT, 24, title, "font-size=\"16\" font-weight=\"bold\"");
    RunResult design = runs.stream().filter(r -> r.policy() == PolicyKind.DESIGN).findFirst().orElse(runs.get(0));
    chart.workersPanel(50, runs);
    chart.logPanel(50 + PANEL + GAP, design.timeline(), "queue depth (requests waiting, " + design.policy().label() + ")",
        1, (row, t) -> row.depth()[t], null);
    chart.logPanel(50 + 2 * (PANEL + GAP), design.timeline(),
        "longest wait per minute, seconds (dashed: target; " + design.policy().label() + ")", 0.1,
        (row, t) -> row.maxWaitS()[t], tierTargetsSeconds);
    chart.svg.append("</svg>\n");
    return chart.svg.toString();
  }

  private void workersPanel(int top, List<RunResult> runs) {
    double max = 1;
    double maxQps = 1;
    for (RunResult run : runs) {
      for (TimelineRow row : run.timeline()) {
        max = Math.max(max, total(row));
        maxQps = Math.max(maxQps, row.arrivalsQps());
      }
    }
    max = niceCeiling(max);
    maxQps = niceCeiling(maxQps);
    frame(top, "workers (left) and arrivals per second (right, grey)");
    yTicks(top, 0, max, false, LEFT - 6, "end");
    yTicks(top, 0, maxQps, false, WIDTH - RIGHT + 6, "start");
    final double qpsScale = maxQps;
    polyline(runs.get(0).timeline(), top, row -> row.arrivalsQps() / qpsScale, "#bbbbbb", "1", null);
    String[] colours = {"#2ca02c", "#000000", "#9467bd", "#7f7f7f"};
    int legendX = LEFT + 10;
    for (int i = 0; i < runs.size(); i++) {
      RunResult run = runs.get(i);
      final double scale = max;
      String colour = colours[Math.min(i, colours.length - 1)];
      polyline(run.timeline(), top, row -> total(row) / scale, colour, "1.6", null);
      legend(legendX, top + 14, colour, run.policy().label(), null);
      legendX += 200;
    }
  }

  private interface TierValue {
    double of(TimelineRow row, int tier);
  }

  private void logPanel(int top, List<TimelineRow> rows, String title, double floor, TierValue value, double[] targets) {
    double max = floor * 10;
    for (TimelineRow row : rows) {
      for (int t = 0; t < TIERS.length; t++) {
        double v = value.of(row, t);
        if (Double.isFinite(v)) {
          max = Math.max(max, v);
        }
      }
    }
    if (targets != null) {
      for (double target : targets) {
        max = Math.max(max, target * 2);
      }
    }
    double lo = Math.log10(floor);
    double hi = Math.ceil(Math.log10(max));
    frame(top, title);
    for (double decade = lo; decade <= hi + 1e-9; decade++) {
      double y = top + PANEL - (decade - lo) / (hi - lo) * PANEL;
      line(LEFT, y, WIDTH - RIGHT, y, "#eeeeee", "1", null);
      text(LEFT - 6, y + 4, format(Math.pow(10, decade)), "text-anchor=\"end\"");
    }
    int legendX = LEFT + 10;
    for (int t = 0; t < TIERS.length; t++) {
      final int tier = t;
      polyline(rows, top, row -> {
        double v = value.of(row, tier);
        if (!Double.isFinite(v)) {
          return Double.NaN;
        }
        return (Math.log10(Math.max(v, floor)) - lo) / (hi - lo);
      }, TIER_COLOURS[t], "1.2", null);
      if (targets != null) {
        double y = top + PANEL - (Math.log10(targets[t]) - lo) / (hi - lo) * PANEL;
        line(LEFT, y, WIDTH - RIGHT, y, TIER_COLOURS[t], "1", "5,4");
      }
      legend(legendX, top + 14, TIER_COLOURS[t], TIERS[t], null);
      legendX += 90;
    }
  }

  private void frame(int top, String title) {
    text(LEFT, top - 8, title, "font-weight=\"bold\"");
    svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n",
        LEFT, top, WIDTH - LEFT - RIGHT, PANEL));
    for (int hour = 0; hour <= 24; hour += 2) {
      double x = x(hour * 60.0);
      line(x, top + PANEL, x, top + PANEL + 4, "#999", "1", null);
      text(x, top + PANEL + 16, String.format(Locale.ROOT, "%02d:00", hour), "text-anchor=\"middle\"");
    }
  }

  private void yTicks(int top, double min, double max, boolean log, double x, String anchor) {
    for (int i = 0; i <= 4; i++) {
      double v = min + (max - min) * i / 4;
      double y = top + PANEL - PANEL * i / 4.0;
      if (anchor.equals("end")) {
        line(LEFT, y, WIDTH - RIGHT, y, "#eeeeee", "1", null);
      }
      text(x, y + 4, format(v), "text-anchor=\"" + anchor + "\"");
    }
  }

  /** One point per {@value #BUCKET_MINUTES} minutes, the highest of the bucket (peaks stay visible, the file stays small). */
  private void polyline(List<TimelineRow> rows, int top, ToDoubleFunction<TimelineRow> fraction, String colour,
      String width, String dash) {
    StringBuilder points = new StringBuilder();
    for (int start = 0; start < rows.size(); start += BUCKET_MINUTES) {
      double f = Double.NaN;
      for (int i = start; i < Math.min(rows.size(), start + BUCKET_MINUTES); i++) {
        double v = fraction.applyAsDouble(rows.get(i));
        if (Double.isFinite(v)) {
          f = Double.isNaN(f) ? v : Math.max(f, v);
        }
      }
      if (!Double.isFinite(f)) {
        if (points.length() > 0) {
          emit(points, colour, width, dash);
          points.setLength(0);
        }
        continue;
      }
      double y = top + PANEL - Math.max(0, Math.min(1, f)) * PANEL;
      TimelineRow last = rows.get(Math.min(rows.size(), start + BUCKET_MINUTES) - 1);
      points.append(String.format(Locale.ROOT, "%.0f,%.0f ", x(last.minute()), y));
    }
    if (points.length() > 0) {
      emit(points, colour, width, dash);
    }
  }

  private void emit(StringBuilder points, String colour, String width, String dash) {
    svg.append("<polyline fill=\"none\" stroke=\"").append(colour).append("\" stroke-width=\"").append(width).append('"');
    if (dash != null) {
      svg.append(" stroke-dasharray=\"").append(dash).append('"');
    }
    svg.append(" points=\"").append(points.toString().trim()).append("\"/>\n");
  }

  private void legend(double x, double y, String colour, String label, String dash) {
    line(x, y - 4, x + 18, y - 4, colour, "2.5", dash);
    text(x + 22, y, label, "");
  }

  private void line(double x1, double y1, double x2, double y2, String colour, String width, String dash) {
    svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%s\"%s/>%n",
        x1, y1, x2, y2, colour, width, dash == null ? "" : " stroke-dasharray=\"" + dash + "\""));
  }

  private void text(double x, double y, String content, String attributes) {
    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>%n", x, y, attributes,
        content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")));
  }

  private static double x(double minute) {
    return LEFT + (WIDTH - LEFT - RIGHT) * Math.max(0, Math.min(1, minute / (24 * 60)));
  }

  private static double total(TimelineRow row) {
    int sum = 0;
    for (int w : row.workers()) {
      sum += w;
    }
    return sum;
  }

  private static double niceCeiling(double value) {
    double magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (double step : new double[] {1, 2, 2.5, 5, 10}) {
      if (step * magnitude >= value) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String format(double v) {
    if (v >= 1000) {
      return String.format(Locale.ROOT, "%.0fk", v / 1000);
    }
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
  }
}
