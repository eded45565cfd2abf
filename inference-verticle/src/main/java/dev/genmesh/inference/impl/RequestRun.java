package dev.genmesh.inference.impl;

import dev.genmesh.inference.pipeline.GenerationInput;
import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.tracing.TraceParent;
import dev.genmesh.protocol.WorkerMessages;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;

/** One assignment a worker holds: waiting for its batch, running, or handing in. */
public final class RequestRun {
  private final WorkerMessages.Assignment assignment;
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final long startedNanos = System.nanoTime();
  private GenerationInput input;
  private String inputProblem;
  private volatile long firstStepNanos;
  private volatile long lastStepNanos;
  private volatile int stepsDone;
  private volatile int totalSteps;

  /** The denoising run's span, in the submit's trace (invalid when the request is not traced). */
  private final Span span;

  public RequestRun(WorkerMessages.Assignment assignment) {
    this.assignment = assignment;
    this.span = assignment.traceParent() == null ? Span.getInvalid()
        : TraceParent.start("denoise " + assignment.spec().model(), SpanKind.INTERNAL, assignment.traceParent())
            .setAttribute("genmesh.request_id", assignment.requestId())
            .setAttribute("genmesh.attempt", assignment.attempt())
            .setAttribute("genmesh.model", assignment.spec().model())
            .setAttribute("genmesh.steps", assignment.spec().steps())
            .setAttribute("genmesh.size", assignment.spec().width() + "x" + assignment.spec().height())
            .setAttribute("genmesh.batch_size", assignment.spec().batchSize());
  }

  public Span span() {
    return span;
  }

  /** Runs {@code log} with the run's span current: its lines carry the request's trace id (docs/architecture.md, "Tracing"). */
  public void traced(Runnable log) {
    try (Scope ignored = span.makeCurrent()) {
      log.run();
    }
  }

  /** Ends the run's span with how the attempt ended (a second call changes nothing). */
  public void endSpan(String outcome) {
    span.setAttribute("genmesh.outcome", outcome);
    span.setAttribute("genmesh.steps_done", stepsDone);
    span.end();
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
  private volatile boolean handingIn;

  /** Its images are on their way to the store and the region: the batch is over, the request still held. */
  public void handingIn() {
    handingIn = true;
  }

  public boolean isHandingIn() {
    return handingIn;
  }

  public void cancel() {
    cancelled.set(true);
  }

  /** Stops it at its next step to hand it back (the worker's drain deadline passed). */
  public void drain() {
    drained = true;
    cancelled.set(true);
  }

  /** Records a denoising step at {@code now} ({@link System#nanoTime}; called from the TensorFlow thread). */
  public void stepped(int step, int total, long now) {
    if (stepsDone == 0) {
      firstStepNanos = now;
    }
    lastStepNanos = now;
    stepsDone = step;
    totalSteps = total;
  }

  /**
   * How long it should still run, from its pace so far: the mean time between its steps times the
   * steps left. Infinite before its second step (no pace yet, and little work to lose).
   */
  public double remainingMs() {
    int done = stepsDone;
    if (done < 2 || totalSteps <= 0) {
      return Double.POSITIVE_INFINITY;
    }
    double perStepMs = (lastStepNanos - firstStepNanos) / 1e6 / (done - 1);
    return Math.max(0, totalSteps - done) * perStepMs;
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
   * Builds the pipeline's input once, decoding the control image (base64, up to MBs): the work
   * loop calls it off the event loop as it claims the request.
   */
  public synchronized void decodeInput() {
    if (input == null && inputProblem == null) {
      try {
        input = toInput(assignment.spec());
      } catch (IllegalArgumentException e) {
        inputProblem = e.getMessage();
      }
    }
  }

  /** Null when the input decodes; else why not (a control image that is not base64). */
  public synchronized String inputProblem() {
    decodeInput();
    return inputProblem;
  }

  /**
   * The pipeline's input for this spec.
   *
   * @throws IllegalArgumentException if the control image is not base64
   */
  public synchronized GenerationInput input() {
    decodeInput();
    if (inputProblem != null) {
      throw new IllegalArgumentException(inputProblem);
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
