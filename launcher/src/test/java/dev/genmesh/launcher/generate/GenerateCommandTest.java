package dev.genmesh.launcher.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.client.ClientOptions;
import dev.genmesh.client.GenmeshClient;
import dev.genmesh.launcher.Main;
import dev.genmesh.launcher.Mesh;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code genmesh generate} against a real mesh ({@link OneRegionMesh}), in this JVM through
 * picocli with the output captured, and as a process for Ctrl-C: the exit codes for success (the
 * PNG written at its size), a failed generation, bad input, a bad key, no edge, and a cancel.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GenerateCommandTest {
  @TempDir static Path dataDir;
  @TempDir Path work;
  private Mesh mesh;
  private String edge;
  private String key;

  @BeforeAll
  void start() {
    mesh = OneRegionMesh.start(dataDir);
    edge = "http://127.0.0.1:" + mesh.edgePort();
    key = mesh.localKey().orElseThrow().secret();
  }

  @AfterAll
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  private record Run(int exit, String out, String err) {
    List<JsonObject> jsonLines() {
      return out.lines().filter(l -> l.startsWith("{")).map(JsonObject::new).toList();
    }
  }

  private Run generate(Map<String, String> env, String... args) {
    return generate(env, null, new StringWriter(), new StringWriter(), args);
  }

  /** @param hooks where the command's Ctrl-C hook goes (null: the JVM's); {@code out} and {@code err} stay readable */
  private Run generate(Map<String, String> env, GenerateCommand.Hooks hooks, StringWriter out, StringWriter err,
      String... args) {
    CommandLine.IFactory factory = new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> cls) throws Exception {
        return cls != GenerateCommand.class ? CommandLine.defaultFactory().create(cls)
            : cls.cast(hooks == null ? new GenerateCommand(env) : new GenerateCommand(env, hooks));
      }
    };
    List<String> all = new ArrayList<>(List.of("generate"));
    all.addAll(List.of(args));
    int exit = new CommandLine(new Main(), factory).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  private Run generate(String... args) {
    return generate(Map.of("GENMESH_URL", edge, "GENMESH_API_KEY", key), args);
  }

  @Test
  void writesThePngAtTheAskedSizeAndExitsZero() throws IOException {
    Path png = work.resolve("lighthouse.png");
    Run run = generate("a lighthouse at dusk", "--tier", "turbo", "--size", "320x256", "--steps", "3", "--seed", "5",
        "--out", png.toString());

    assertThat(run.exit).as(run.out + run.err).isEqualTo(GenerateCommand.Exit.OK);
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(320);
    assertThat(image.getHeight()).isEqualTo(256);
    assertThat(run.out).as("plain progress lines (not a terminal)").contains("queued", "step 1/3", "step 3/3", "completed",
        "wrote " + png);
    assertThat(run.out).doesNotContain("\r");
  }

  @Test
  void jsonGivesEveryEventAndTheResultOnePerLine() {
    Path png = work.resolve("json.png");
    Run run = generate("a harbour", "--size", "256x256", "--steps", "2", "--json", "--out", png.toString(), "--url", edge);

    assertThat(run.exit).as(run.out + run.err).isZero();
    List<JsonObject> lines = run.jsonLines();
    assertThat(lines.get(0).getJsonObject("accepted").getString("id")).startsWith("usw_");
    assertThat(lines.subList(1, lines.size() - 1)).extracting(l -> l.getJsonObject("event").getString("type"))
        .containsExactly("queued", "assigned", "step", "step", "completed");
    JsonObject result = lines.get(lines.size() - 1);
    assertThat(result.getString("result")).isEqualTo("completed");
    assertThat(result.getJsonArray("files").getList()).containsExactly(png.toString());
    assertThat(png).exists();
  }

  @Test
  void aFailedGenerationExitsThree() {
    Run run = generate("gore", "--size", "256x256", "--steps", "1", "--json", "--out", work.resolve("no.png").toString());

    assertThat(run.exit).as(run.out + run.err).isEqualTo(GenerateCommand.Exit.FAILED);
    JsonObject result = run.jsonLines().get(run.jsonLines().size() - 1);
    assertThat(result.getString("result")).isEqualTo("failed");
    assertThat(result.getString("code")).isEqualTo("safety_blocked");
    assertThat(work.resolve("no.png")).doesNotExist();
  }

  @Test
  void badInputExitsTwoBeforeOrAtTheEdge() {
    assertThat(generate("x", "--size", "big").exit).isEqualTo(GenerateCommand.Exit.BAD_INPUT);
    assertThat(generate("x", "--no-such-option").exit).isEqualTo(GenerateCommand.Exit.BAD_INPUT);
    assertThat(generate().exit).as("no prompt").isEqualTo(GenerateCommand.Exit.BAD_INPUT);
    Run refused = generate("x", "--steps", "0");
    assertThat(refused.exit).isEqualTo(GenerateCommand.Exit.BAD_INPUT);
    assertThat(refused.err).contains("400 out_of_range", "field steps");
  }

  @Test
  void aBadKeyExitsFourAndNoEdgeExitsFive() {
    Run stranger = generate(Map.of("GENMESH_URL", edge, "GENMESH_API_KEY", "gmk_0_nope"), "x", "--json");
    assertThat(stranger.exit).isEqualTo(GenerateCommand.Exit.AUTH);
    assertThat(stranger.jsonLines().get(0).getJsonObject("error").getString("code")).isEqualTo("unauthorized");

    Run nowhere = generate(Map.of("GENMESH_URL", "http://127.0.0.1:1"), "x");
    assertThat(nowhere.exit).isEqualTo(GenerateCommand.Exit.UNREACHABLE);
    assertThat(nowhere.err).contains("unreachable");
  }

  /**
   * Ctrl-C is a signal to a process: {@code genmesh generate} runs as one, and gets SIGINT while its
   * request waits. It starts with SIGINT's default action, as a shell gives its foreground job: a
   * test JVM run in the background of a script (e.g. {@code .ci/run > log &}) ignores SIGINT, its
   * children inherit that, and a JVM leaves an ignored SIGINT ignored (the child would never exit).
   */
  @Test
  void ctrlCCancelsTheGenerationAndExits130() throws Exception {
    Path log = work.resolve("generate.log");
    List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-cp", classPath(), Main.class.getName(),
        "generate", "waits in the queue", "--model", OneRegionMesh.UNSERVED, "--json", "--url", edge));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("GENMESH_"));
    builder.environment().put("GENMESH_API_KEY", key);
    Process process = builder.start();
    try {
      Waits.eventually(60, () -> read(log).contains("\"queued\""), "the child's request queued");
      String id = new JsonObject(read(log).lines().filter(l -> l.contains("\"accepted\"")).findFirst().orElseThrow())
          .getJsonObject("accepted").getString("id");

      assertThat(new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor()).isZero();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGINT:\n" + read(log)).isTrue();

      assertThat(process.exitValue()).as(read(log)).isEqualTo(GenerateCommand.Exit.CANCELLED);
      assertThat(read(log)).contains("{\"result\":\"cancelled\",\"id\":\"" + id + "\"}");
      try (GenmeshClient client = GenmeshClient.create(ClientOptions.of(edge, key))) {
        assertThat(Waits.await(client.get(id)).status()).isEqualTo("cancelled");
      }
    } finally {
      process.destroyForcibly().waitFor();
    }
  }

  /**
   * Ctrl-C's hook cancels through the client while the stream, seeing {@code cancelled}, lets the
   * command end: the command closes the client only after the cancel's answer (held back here by a
   * proxy), so the cancel neither fails nor reports a failure. The hook runs as the JVM would run
   * it on SIGINT, without ending this JVM.
   */
  @Test
  void aCtrlCsCancelStillOnItsWayKeepsTheClientOpenUntilItIsAnswered() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      CutProxy proxy = new CutProxy(vertx, mesh.edgePort()).start();
      proxy.delayDeleteAnswers(3000);
      List<Thread> hooks = new CopyOnWriteArrayList<>();
      GenerateCommand.Hooks captured = new GenerateCommand.Hooks() {
        @Override
        public void add(Thread hook) {
          hooks.add(hook);
        }

        @Override
        public void remove(Thread hook) {
          hooks.remove(hook);
        }
      };
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CompletableFuture<Run> running = CompletableFuture.supplyAsync(() -> generate(Map.of("GENMESH_API_KEY", key),
          captured, out, err, "waits in the queue", "--model", OneRegionMesh.UNSERVED, "--json", "--url", proxy.url()));
      Waits.eventually(60, () -> out.toString().contains("\"queued\""), "the request queued");
      Thread hook = hooks.get(0);
      hook.start(); // Ctrl-C

      Run run = running.get(60, TimeUnit.SECONDS);
      hook.join(30_000);
      assertThat(hook.isAlive()).as("the hook ended").isFalse();
      assertThat(run.exit).as(run.out + run.err).isEqualTo(GenerateCommand.Exit.CANCELLED);
      assertThat(err.toString()).as("what the command and its hook said").doesNotContain("could not cancel");
      List<JsonObject> lines = run.jsonLines();
      assertThat(lines.stream().filter(l -> l.containsKey("result"))).as(run.out).singleElement()
          .satisfies(l -> assertThat(l.getString("result")).isEqualTo("cancelled"));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Surefire may hand the test JVM a manifest-only jar; it names the real class path separately. */
  private static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
  }
}
