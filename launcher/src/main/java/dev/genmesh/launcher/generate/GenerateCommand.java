package dev.genmesh.launcher.generate;

import dev.genmesh.client.ClientOptions;
import dev.genmesh.client.Generation;
import dev.genmesh.client.GenerationEvent;
import dev.genmesh.client.GenerationRequest;
import dev.genmesh.client.GenmeshClient;
import dev.genmesh.client.GenmeshException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code genmesh generate "prompt"}: submits through the client library to any edge, shows the
 * progress, writes the PNG. Ctrl-C cancels the generation. Exit codes are for scripts (see
 * {@link Exit}).
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Generate an image through an edge: live progress, the PNG written to --out.",
        "The edge: --url, else $GENMESH_URL, else " + ClientOptions.DEFAULT_URL + ". The API key: $GENMESH_API_KEY."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:completed, image(s) written", "1:an unexpected error (the edge's 500, a file that cannot be written, a bug)",
        "2:bad input (options, or the edge's 400/404/409/413/422)", "3:the generation failed (e.g. safety_blocked)",
        "4:no valid API key, or not allowed (401/403)", "5:the edge unreachable or unavailable after retries",
        "130:cancelled (Ctrl-C, or a cancel from elsewhere)"})
public final class GenerateCommand implements Callable<Integer> {
  /** The exit codes. */
  public static final class Exit {
    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int BAD_INPUT = 2;
    public static final int FAILED = 3;
    public static final int AUTH = 4;
    public static final int UNREACHABLE = 5;
    public static final int CANCELLED = 130;

    private Exit() {}
  }

  private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");
  /** How long a call or the whole event stream may take before the command gives up (a relax tier may queue long). */
  private static final long AWAIT_LIMIT_S = 6 * 3600;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PROMPT", description = "What to draw.")
  String prompt;

  @Option(names = "--tier", paramLabel = "TIER", description = "turbo, fast or relax (the edge's default: fast).")
  String tier;

  @Option(names = "--model", paramLabel = "NAME", description = "A model, or name@version (GET /v1/models lists them).")
  String model;

  @Option(names = "--size", paramLabel = "WxH", description = "Width x height in pixels, e.g. 512x512.")
  String size;

  @Option(names = "--seed", paramLabel = "N", description = "Same seed, prompt and parameters give the same PNG.")
  Long seed;

  @Option(names = "--steps", paramLabel = "N", description = "Denoising steps.")
  Integer steps;

  @Option(names = "--batch", paramLabel = "N", description = "Images in one generation (FILE-0.png, FILE-1.png, ...).")
  Integer batch;

  @Option(names = "--out", paramLabel = "FILE", description = "Where the PNG goes (default: <id>.png here).")
  Path out;

  @Option(names = "--url", paramLabel = "URL", description = "The edge (default: $GENMESH_URL, else " + ClientOptions.DEFAULT_URL + ").")
  String url;

  @Option(names = "--json", description = "One JSON object per line: accepted, each event, then the result (or error).")
  boolean json;

  /** Where the Ctrl-C hook goes: the JVM's shutdown hooks; a test hands its own to play a Ctrl-C. */
  interface Hooks {
    void add(Thread hook);

    /** Throws IllegalStateException when the JVM is shutting down (the hook runs, or ran). */
    void remove(Thread hook);
  }

  private static final Hooks JVM_HOOKS = new Hooks() {
    @Override
    public void add(Thread hook) {
      Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public void remove(Thread hook) {
      Runtime.getRuntime().removeShutdownHook(hook);
    }
  };
  /** How long the command waits, before it closes its client, for a Ctrl-C's cancel (that has its own 10 s + 10 s). */
  private static final long CANCEL_WAIT_S = 30;

  private final Map<String, String> env;
  private final Hooks hooks;
  private final CompletableFuture<String> submitted = new CompletableFuture<>();
  private final AtomicBoolean finished = new AtomicBoolean();
  /** Set first thing by the Ctrl-C hook; {@link #cancelDone} completes when it is through with the client. */
  private final AtomicBoolean hookStarted = new AtomicBoolean();
  private final CompletableFuture<Void> cancelDone = new CompletableFuture<>();

  public GenerateCommand() {
    this(System.getenv());
  }

  /** @param env where GENMESH_URL and GENMESH_API_KEY come from (tests hand their own) */
  public GenerateCommand(Map<String, String> env) {
    this(env, JVM_HOOKS);
  }

  GenerateCommand(Map<String, String> env, Hooks hooks) {
    this.env = env;
    this.hooks = hooks;
  }

  @Override
  public Integer call() {
    PrintWriter console = spec.commandLine().getOut();
    ProgressView view = new ProgressView(console, json ? ProgressView.Mode.JSON
        : System.console() != null ? ProgressView.Mode.LINE : ProgressView.Mode.PLAIN);
    GenerationRequest request;
    ClientOptions options;
    try {
      request = request();
      options = ClientOptions.of(url != null ? url : env.getOrDefault("GENMESH_URL", ClientOptions.DEFAULT_URL),
          env.get("GENMESH_API_KEY"));
    } catch (IllegalArgumentException e) {
      return error(view, new GenmeshException(0, "usage", e.getMessage(), null, null, e));
    }
    try (GenmeshClient client = GenmeshClient.create(options)) {
      client.onRetry((what, attempts, failure, delayMs) ->
          view.note(what + ": " + failure.status() + " " + failure.code() + ", trying again in " + delayMs + " ms"));
      Thread hook = new Thread(() -> cancelOnInterrupt(client, view), "genmesh-generate-cancel");
      hooks.add(hook);
      try {
        return run(client, request, view);
      } finally {
        finished.set(true);
        try {
          hooks.remove(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs (or ran): it cancels
        }
        awaitCancel();
      }
    }
  }

  /**
   * A Ctrl-C's cancel may still be on its way when the stream already says cancelled: the client
   * closes only once the hook is through with it, else the cancel fails and says so. The hook marks
   * its start before it looks at {@link #finished}, which is set before this looks at the mark: a
   * hook that started unseen here sees the command finished and leaves the client alone.
   */
  private void awaitCancel() {
    if (!hookStarted.get()) {
      return;
    }
    try {
      cancelDone.get(CANCEL_WAIT_S, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // the hook reports its own failure
    }
  }

  private int run(GenmeshClient client, GenerationRequest request, ProgressView view) {
    try {
      Generation accepted = await(client.submit(request));
      submitted.complete(accepted.id());
      view.accepted(accepted.id(), accepted.region());
      GenerationEvent last = await(client.follow(accepted.id(), 0, view::event).done());
      finished.set(true); // it ended: nothing left for Ctrl-C to cancel
      if (last instanceof GenerationEvent.Completed completed) {
        return write(client, completed, view);
      }
      if (last instanceof GenerationEvent.Failed failed) {
        view.result(new JsonObject().put("result", "failed").put("id", accepted.id()).put("code", failed.code())
            .put("message", failed.message()));
        return Exit.FAILED;
      }
      if (last == null) {
        throw new GenmeshException(0, "stream_ended", "the event stream ended without a last event", null, null, null);
      }
      view.result(new JsonObject().put("result", "cancelled").put("id", accepted.id()));
      return Exit.CANCELLED;
    } catch (GenmeshException e) {
      submitted.complete(null);
      return error(view, e);
    }
  }

  private int write(GenmeshClient client, GenerationEvent.Completed completed, ProgressView view) {
    List<String> files = new ArrayList<>();
    List<String> images = completed.images();
    for (int i = 0; i < images.size(); i++) {
      Path file = fileFor(completed.requestId(), i, images.size());
      await(client.download(images.get(i), file));
      files.add(file.toString());
      view.note("wrote " + file);
    }
    view.result(new JsonObject().put("result", "completed").put("id", completed.requestId())
        .put("images", new JsonArray(images)).put("files", new JsonArray(files)));
    return Exit.OK;
  }

  private Path fileFor(String id, int index, int count) {
    Path file = out != null ? out : Path.of(id + ".png");
    if (count == 1) {
      return file;
    }
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String numbered = dot > 0 ? name.substring(0, dot) + "-" + index + name.substring(dot) : name + "-" + index;
    return file.resolveSibling(numbered);
  }

  private GenerationRequest request() {
    if (prompt.isBlank()) {
      throw new IllegalArgumentException("the prompt is empty");
    }
    GenerationRequest request = GenerationRequest.of(prompt);
    if (tier != null) {
      request = request.withTier(tier);
    }
    if (model != null) {
      request = request.withModel(model);
    }
    if (size != null) {
      Matcher matcher = SIZE.matcher(size);
      if (!matcher.matches()) {
        throw new IllegalArgumentException("--size must be WIDTHxHEIGHT, e.g. 512x512, got '" + size + "'");
      }
      request = request.withSize(Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2)));
    }
    if (seed != null) {
      request = request.withSeed(seed);
    }
    if (steps != null) {
      request = request.withSteps(steps);
    }
    if (batch != null) {
      request = request.withBatchSize(batch);
    }
    return request;
  }

  /** Ctrl-C (or SIGTERM): cancel the generation if it has not ended, then let the JVM exit (130 after SIGINT). */
  private void cancelOnInterrupt(GenmeshClient client, ProgressView view) {
    hookStarted.set(true);
    try {
      if (!finished.get()) {
        cancel(client, view);
      }
    } finally {
      cancelDone.complete(null);
    }
  }

  private void cancel(GenmeshClient client, ProgressView view) {
    try {
      String id = submitted.get(10, TimeUnit.SECONDS);
      if (id != null && !finished.get()) {
        client.cancel(id).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        view.note("cancelled " + id);
        view.result(new JsonObject().put("result", "cancelled").put("id", id));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      spec.commandLine().getErr().println("genmesh: could not cancel: " + e.getMessage());
    }
  }

  private int error(ProgressView view, GenmeshException e) {
    int exit = exitFor(e);
    if (json) {
      JsonObject error = new JsonObject().put("status", e.status()).put("code", e.code()).put("message", e.getMessage());
      e.field().ifPresent(field -> error.put("field", field));
      view.result(new JsonObject().put("error", error).put("exit", exit));
    } else {
      spec.commandLine().getErr().println("genmesh: " + (e.status() > 0 ? e.status() + " " : "") + e.code() + ": "
          + e.getMessage() + e.field().map(f -> " (field " + f + ")").orElse(""));
    }
    return exit;
  }

  static int exitFor(GenmeshException e) {
    if ("usage".equals(e.code())) {
      return Exit.BAD_INPUT;
    }
    if (e.isAuth()) {
      return Exit.AUTH;
    }
    if (e.isRetryable()) {
      return Exit.UNREACHABLE;
    }
    if (e.status() >= 400 && e.status() < 500) {
      return Exit.BAD_INPUT;
    }
    return Exit.ERROR;
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(AWAIT_LIMIT_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GenmeshException g) {
        throw g;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (TimeoutException e) {
      throw GenmeshException.unreachable("waiting for the edge", e);
    }
  }
}
