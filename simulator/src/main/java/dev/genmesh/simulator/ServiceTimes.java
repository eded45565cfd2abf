package dev.genmesh.simulator;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Seconds one request takes on one GPU class, by request class and model family.
 *
 * <p>These are ESTIMATES, not measurements (there is no GPU here), for few-step distilled models
 * at 1024 x 1024 (SDXL-Lightning-class 4-8 steps, SD3.5-Large-Turbo-class, FLUX.1-schnell-class
 * 4 steps), one image per request except {@code batch} (4 images) and {@code high_res} (2048 x 2048):
 * an A100 runs an SDXL UNet pass at 1024 x 1024 in roughly 50-60 ms, so 4 passes plus text
 * encoding and VAE decode come to about 0.4 s; an A10G / L4 is about 2.4x / 2.8x slower, an
 * H100 about 1.8x faster than an A100 (fp16 tensor throughput and memory bandwidth); FLUX.1-schnell
 * at 4 steps is reported at 1.8-2.6 s on an RTX 4090 (A100-class for this workload). Scale them all
 * with {@code serviceTimeFactor} to see how the results move; docs/autoscaling.md does.
 */
public record ServiceTimes(Map<String, Map<String, Double>> secondsByKindAndGpu) {

  /** The kind of a request: {@code class} or {@code class/family} when families of one class differ. */
  public static String kind(String requestClass, String family) {
    return requestClass.equals("sd3_flux") ? requestClass + "/" + family : requestClass;
  }

  /** Seconds on {@code gpu}; NaN when the table has no figure (the routing matrix forbids it). */
  public double seconds(String requestClass, String family, String gpu) {
    Map<String, Double> byGpu = secondsByKindAndGpu.get(kind(requestClass, family));
    Double seconds = byGpu == null ? null : byGpu.get(gpu);
    return seconds == null ? Double.NaN : seconds;
  }

  /**
   * These times with some replaced by measured ones: CSV lines {@code kind,gpu,seconds} (a header
   * line starting with {@code kind} and lines starting with {@code #} are skipped). A kind is a
   * request class, or {@code sd3_flux/<family>}; a figure for a GPU the table has none for (the
   * routing matrix forbids it) is refused, so a typo cannot route work where it may not go.
   *
   * @throws IllegalArgumentException naming the line, for an unknown kind or GPU or a bad number
   */
  public ServiceTimes withMeasured(List<String> csvLines) {
    Map<String, Map<String, Double>> table = new LinkedHashMap<>();
    secondsByKindAndGpu.forEach((kind, byGpu) -> table.put(kind, new LinkedHashMap<>(byGpu)));
    for (int i = 0; i < csvLines.size(); i++) {
      String line = csvLines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith("kind")) {
        continue;
      }
      String where = "line " + (i + 1) + " '" + line + "': ";
      String[] cells = line.split(",");
      if (cells.length != 3) {
        throw new IllegalArgumentException(where + "expected kind,gpu,seconds");
      }
      Map<String, Double> byGpu = table.get(cells[0].strip());
      if (byGpu == null) {
        throw new IllegalArgumentException(where + "unknown kind (known: " + table.keySet() + ")");
      }
      String gpu = cells[1].strip();
      if (!byGpu.containsKey(gpu)) {
        throw new IllegalArgumentException(where + "no " + cells[0].strip() + " on " + gpu + " (allowed: " + byGpu.keySet() + ")");
      }
      double seconds;
      try {
        seconds = Double.parseDouble(cells[2].strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(where + "seconds is not a number");
      }
      if (!(seconds > 0) || Double.isInfinite(seconds)) {
        throw new IllegalArgumentException(where + "seconds must be positive");
      }
      byGpu.put(gpu, seconds);
    }
    return new ServiceTimes(table);
  }

  public static ServiceTimes estimates() {
    Map<String, Map<String, Double>> table = new LinkedHashMap<>();
    table.put("sdxl", gpus(1.10, 0.95, 0.40, 0.38, 0.22));
    table.put("sdxl_lora", gpus(1.25, 1.05, 0.45, 0.43, 0.25));
    table.put("sdxl_controlnet", gpus(1.55, 1.35, 0.55, 0.52, 0.30));
    table.put("high_res", gpus(Double.NaN, Double.NaN, 1.70, 1.60, 0.90));
    table.put("sd3_flux/sd3", gpus(Double.NaN, Double.NaN, 1.10, 1.05, 0.60));
    table.put("sd3_flux/flux", gpus(Double.NaN, Double.NaN, 1.60, 1.50, 0.85));
    table.put("batch", gpus(Double.NaN, Double.NaN, 1.40, 1.30, 0.75));
    return new ServiceTimes(table);
  }

  private static Map<String, Double> gpus(double l4, double a10g, double a100x40, double a100x80, double h100) {
    Map<String, Double> byGpu = new LinkedHashMap<>();
    put(byGpu, "L4", l4);
    put(byGpu, "A10G", a10g);
    put(byGpu, "A100-40", a100x40);
    put(byGpu, "A100-80", a100x80);
    put(byGpu, "H100", h100);
    return byGpu;
  }

  private static void put(Map<String, Double> byGpu, String gpu, double seconds) {
    if (!Double.isNaN(seconds)) {
      byGpu.put(gpu, seconds);
    }
  }
}
