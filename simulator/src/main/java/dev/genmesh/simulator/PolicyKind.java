package dev.genmesh.simulator;

/** The fleets a scenario is run with. */
public enum PolicyKind {
  /** The real {@code ScalingPolicy} (SustainedTriggerPolicy), with its forecast trained on the history. */
  DESIGN("autoscaled (design policy)"),
  /** Knows the day's arrival rate in advance; the same constraints as the design policy (docs/autoscaling.md). */
  CLAIRVOYANT("clairvoyant baseline"),
  /** KEDA's Redis Lists scaler per pool with KEDA's and the HPA's defaults, its listLength tuned on the normal day. */
  KEDA("reactive (KEDA Redis lists)"),
  /** The design's static fleet: 100 GPUs, about $225/h. */
  STATIC("static 100 GPUs");

  private final String label;

  PolicyKind(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
