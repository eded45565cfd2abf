package dev.genmesh.simulator;

import java.util.List;
import java.util.Map;

/**
 * One simulated day: what arrives ({@code today}) and what the region saw in the weeks before
 * ({@code history}, which trains the hour-of-week forecast). Shapes are shares of the peak rate.
 */
public record Scenario(String name, String description, TrafficShape today, TrafficShape history) {

  public static final List<String> NAMES = List.of("normal", "spike", "ramp", "wrong-forecast");

  /** The design's day, as usual. */
  public static Scenario normal(Map<String, Double> schedule) {
    TrafficShape day = TrafficShape.designDay(schedule);
    return new Scenario("normal", "the design's daily curve (peak 60 QPS), as the history and the schedule expect", day, day);
  }

  /**
   * A usual day with a flash crowd: {@code factor} x the usual rate for {@code minutes} from
   * {@code startHour} (the chaos plan's 10x spike; its timing is ours: inside the daily peak).
   */
  public static Scenario spike(Map<String, Double> schedule, double startHour, double minutes, double factor) {
    TrafficShape day = TrafficShape.designDay(schedule);
    double from = startHour * 3600;
    double to = from + minutes * 60;
    return new Scenario("spike", String.format("the usual day with %.0fx traffic for %.0f min from %02d:%02d",
        factor, minutes, (int) startHour, (int) Math.round((startHour % 1) * 60)),
        t -> day.share(t) * (t >= from && t < to ? factor : 1), day);
  }

  /** Traffic that neither the schedule nor the history expects: a steady climb from 20 % to 150 % of the peak. */
  public static Scenario ramp(Map<String, Double> schedule) {
    return new Scenario("ramp", "a slow ramp from 20 % to 150 % of the peak over the day, unlike the history",
        t -> 0.2 + 1.3 * Math.min(1, Math.max(0, t / 86_400.0)), TrafficShape.designDay(schedule));
  }

  /** The day runs 4 hours late and 20 % above the usual peak: history and schedule are wrong. */
  public static Scenario wrongForecast(Map<String, Double> schedule) {
    TrafficShape day = TrafficShape.designDay(schedule);
    return new Scenario("wrong-forecast", "the usual curve shifted 4 h later and 20 % higher than history and schedule",
        t -> 1.2 * day.share(t - 4 * 3600), day);
  }

  public static Scenario named(String name, Map<String, Double> schedule) {
    return switch (name) {
      case "normal" -> normal(schedule);
      case "spike" -> spike(schedule, 15, 10, 10);
      case "ramp" -> ramp(schedule);
      case "wrong-forecast" -> wrongForecast(schedule);
      default -> throw new IllegalArgumentException("unknown scenario '" + name + "' (known: " + NAMES + ")");
    };
  }
}
