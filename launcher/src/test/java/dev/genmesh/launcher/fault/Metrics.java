package dev.genmesh.launcher.fault;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads values out of a Prometheus text page ({@code /metrics}). */
final class Metrics {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][\\w:]*)(?:\\{(.*)})?\\s+(\\S+)");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private Metrics() {}

  /** The sum of every sample of {@code name} whose labels include {@code labels}; 0 when there is none. */
  static double sum(String page, String name, Map<String, String> labels) {
    double sum = 0;
    for (String line : page.split("\n")) {
      Matcher sample = SAMPLE.matcher(line);
      if (line.startsWith("#") || !sample.find() || !sample.group(1).equals(name)) {
        continue;
      }
      Map<String, String> found = new HashMap<>();
      Matcher label = LABEL.matcher(sample.group(2) == null ? "" : sample.group(2));
      while (label.find()) {
        found.put(label.group(1), label.group(2));
      }
      if (found.entrySet().containsAll(labels.entrySet())) {
        sum += Double.parseDouble(sample.group(3));
      }
    }
    return sum;
  }
}
