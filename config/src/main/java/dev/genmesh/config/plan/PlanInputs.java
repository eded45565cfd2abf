package dev.genmesh.config.plan;

import dev.genmesh.config.ConfigException;
import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.impl.Node;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What {@code genmesh plan} plans from (docs/capacity.md): the growth table, the regions' shares
 * of the traffic, the request mix, where the service times come from, and the utilisations. The
 * bundled {@code plan-defaults.yaml} explains each key; a user's file replaces it section by section.
 *
 * @param serviceTimesCsv measured service times (kind,gpu,seconds), resolved against the inputs
 *     file's folder; null: the simulator's estimates
 * @param source where the inputs came from (the file, or the bundled defaults)
 */
public record PlanInputs(
    Map<String, Milestone> milestones,
    Map<String, Double> regions,
    Map<String, Double> tierMix,
    Map<String, Double> familyMix,
    Map<String, Map<String, Double>> classMix,
    Path serviceTimesCsv,
    double peakUtilisation,
    double averageUtilisation,
    double daysPerMonth,
    String source) {

  static final String DEFAULTS = "/dev/genmesh/config/plan-defaults.yaml";
  private static final double SUM_TOLERANCE = 1e-3;

  /** One row of the growth table. */
  public record Milestone(String name, long dailyImages, double peakQps, List<String> actions) {
    static Milestone read(Node n) {
      long daily = n.integer("daily_images", 1L, 1_000_000_000_000L);
      double peak = n.decimal("peak_qps", 1e-6, 1e9);
      List<String> actions = n.strings("actions", List.of());
      n.finish();
      double average = daily / 86_400.0;
      if (average > peak) {
        throw new ConfigException(n.keyPath("peak_qps"), String.format(Locale.ROOT,
            "is below the average rate daily_images implies (%.1f per second): the peak cannot be lower", average));
      }
      return new Milestone(n.name(), daily, peak, actions);
    }
  }

  /** The bundled defaults, or {@code file}'s sections over them. */
  public static PlanInputs load(Path file) {
    Map<String, Object> tree = bundled();
    if (file != null) {
      tree.putAll(ConfigLoader.readFile(file, "plan inputs file"));
    }
    return read(new Node("", tree), file == null ? null : file.toAbsolutePath().getParent(),
        file == null ? "bundled plan-defaults.yaml" : file.toString());
  }

  static PlanInputs read(Node n, Path folder, String source) {
    Map<String, Milestone> milestones = n.entries("milestones", Milestone::read);
    Map<String, Double> regions = shares(n, "regions");
    Node mix = n.child("mix");
    Map<String, Double> tiers = shares(mix, "tiers");
    if (!tiers.keySet().equals(java.util.Set.of("turbo", "fast", "relax"))) {
      throw new ConfigException(mix.keyPath("tiers"), "must name turbo, fast and relax, got " + tiers.keySet());
    }
    Map<String, Double> families = shares(mix, "families");
    Node classesNode = mix.child("classes");
    Map<String, Map<String, Double>> classes = new LinkedHashMap<>();
    for (String family : families.keySet()) {
      if (!classesNode.has(family)) {
        throw new ConfigException(classesNode.keyPath(family), "is required: the request classes of family " + family);
      }
      classes.put(family, shares(classesNode, family));
    }
    classesNode.finish();
    mix.finish();
    String csv = n.string("service_times_csv", "");
    Path serviceTimes = csv.isBlank() ? null : (folder == null ? Path.of(csv) : folder.resolve(csv));
    double peak = n.decimal("peak_utilisation", 0.05, 1.0);
    double average = n.decimal("average_utilisation", 0.05, 1.0);
    if (average > peak) {
      throw new ConfigException("average_utilisation", "must not exceed peak_utilisation (" + peak + "), got " + average);
    }
    double days = n.decimal("days_per_month", 28, 31);
    n.finish();
    return new PlanInputs(milestones, regions, tiers, families, classes, serviceTimes, peak, average, days, source);
  }

  /** A section of name → share, each in (0, 1], adding up to 1. */
  private static Map<String, Double> shares(Node n, String key) {
    Map<String, Double> shares = n.decimals(key, 0, 1);
    if (shares.isEmpty()) {
      throw new ConfigException(n.keyPath(key), "must have at least one entry");
    }
    double sum = shares.values().stream().mapToDouble(Double::doubleValue).sum();
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      throw new ConfigException(n.keyPath(key), String.format(Locale.ROOT, "shares must add up to 1, got %.4f", sum));
    }
    return shares;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> bundled() {
    try (InputStream in = PlanInputs.class.getResourceAsStream(DEFAULTS)) {
      Object parsed = in == null ? null : new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      if (!(parsed instanceof Map)) {
        throw new IllegalStateException("bundled plan inputs missing or not a map: " + DEFAULTS);
      }
      return new LinkedHashMap<>((Map<String, Object>) parsed);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the bundled plan inputs", e);
    }
  }
}
