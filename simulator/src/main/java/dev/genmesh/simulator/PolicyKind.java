package dev.genmesh.simulator;

/** The fleets a scenario is run with. */
public enum PolicyKind {
  /** The real {@code ScalingPolicy} (SustainedTriggerPolicy), with its forecast trained on the history. */
  DESIGN("autoscaled (design policy)"),
  /** Queue depth only, like a default Kubernetes HPA: no forecast, no tiers, no windows but HPA's own. */
  REACTIVE("reactive (HPA-like, queue depth)"),
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
