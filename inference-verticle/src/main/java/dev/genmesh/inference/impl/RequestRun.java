package dev.genmesh.inference.impl;

import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.WorkerMessages;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;

/** One assignment a worker holds: waiting for its batch, running, or handing in. */
public final class RequestRun {
  private final WorkerMessages.Assignment assignment;
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final long startedNanos = System.nanoTime();
  private GenerationInput input;

  public RequestRun(WorkerMessages.Assignment assignment) {
    this.assignment = assignment;
  }

  public WorkerMessages.Assignment assignment() {
    return assignment;
  }

  public String id() {
    return assignment.requestId();
  }

  public GenerationSpec spec() {
    return assignment.spec();
  }

  private volatile boolean drained;

  public void cancel() {
    cancelled.set(true);
  }

  /** Stops it at its next step to hand it back (the worker's drain deadline passed). */
  public void drain() {
    drained = true;
    cancelled.set(true);
  }

  public boolean isDrained() {
    return drained;
  }

  public boolean isCancelled() {
    return cancelled.get();
  }

  public double elapsedMs() {
    return (System.nanoTime() - startedNanos) / 1e6;
  }

  /**
   * The pipeline's input for this spec.
   *
   * @throws IllegalArgumentException if the control image is not base64
   */
  public synchronized GenerationInput input() {
    if (input == null) {
      input = toInput(assignment.spec());
    }
    return input;
  }

  private static GenerationInput toInput(GenerationSpec s) {
    byte[] control = s.hasControlImage() ? Base64.getDecoder().decode(s.controlImage()) : null;
    return new GenerationInput(s.prompt(), s.negativePrompt(), s.width(), s.height(), s.steps(),
        s.seed(), s.guidance(), s.batchSize(), s.adapter(), s.adapterScale(), control,
        s.controlScale(), s.previewEvery());
  }
}
