package dev.genmesh.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI Images API shape, driven by the official OpenAI client library for Node
 * ({@code openai} from npm, pinned in src/test/node/openai-client/package-lock.json) against a
 * real edge in front of fake regions that complete each request at once with a real PNG of the
 * asked size. The client gets PNGs of the asked sizes both as URLs and as base64, and an unknown
 * model comes back as the SDK's {@code BadRequestError} with OpenAI's error fields.
 *
 * <p>Needs node (20 or later) and npm: the test installs the client with {@code npm ci} into
 * target/openai-client, and is skipped, saying so, where npm is not on the PATH.
 */
class OpenAiClientTest {
  private static final String KEY = "sk-genmesh-test-key";
  private static final Path SOURCE = Paths.get("src", "test", "node", "openai-client");
  private static final Path WORK = Paths.get("target", "openai-client");

  private TestEdge edge;

  @BeforeEach
  void start() throws IOException, InterruptedException {
    Assumptions.assumeTrue(onPath("npm") && onPath("node"),
        "node and npm are not on the PATH: OpenAiClientTest needs them to install and run the official OpenAI client"
            + " (Debian: apt-get install nodejs npm)");
    install();
    edge = new TestEdge(config -> config.withApiKeys(true, Map.of("ada", sha256(KEY))));
    edge.fakes.forEach(fake -> fake.completeOnSubmit = true);
  }

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
  }

  @Test
  void theOfficialClientGetsPngsOfTheAskedSize() throws Exception {
    Path out = Files.createTempDirectory(WORK.toAbsolutePath().getParent(), "openai-images");
    Run run = run(WORK, 120, "node", "generate.mjs", "http://127.0.0.1:" + edge.port + "/v1", KEY, out.toString());
    assertThat(run.exit).as("node generate.mjs:\n" + run.output).isZero();
    String[] lines = run.stdout.strip().split("\n");
    JsonObject report = new JsonObject(lines[lines.length - 1]);

    List<JsonObject> files = report.getJsonArray("files").stream().map(JsonObject.class::cast).toList();
    assertThat(files).extracting(f -> f.getString("size")).containsExactly("384x256", "384x256", "256x512");
    for (JsonObject file : files) {
      BufferedImage image = ImageIO.read(new File(file.getString("file")));
      assertThat(image).as(file.getString("file") + " is a PNG").isNotNull();
      assertThat(image.getWidth() + "x" + image.getHeight()).isEqualTo(file.getString("size"));
    }
    assertThat(report.getJsonArray("created")).allSatisfy(created -> assertThat((Integer) created).isPositive());

    JsonObject error = report.getJsonObject("error");
    assertThat(error.getInteger("status")).isEqualTo(400);
    assertThat(error.getString("cls")).isEqualTo("BadRequestError");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("param")).isEqualTo("model");

    // Each generation went through the edge's own submit: one per call that succeeded, n images each.
    assertThat(edge.createdInRegions()).isEqualTo(2);
    assertThat(edge.scrape()).contains("genmesh_edge_openai_requests_total{code=\"none\",outcome=\"ok\"} 2.0");
  }

  /** npm ci of the pinned client into target/ (once per build). */
  private static void install() throws IOException, InterruptedException {
    Files.createDirectories(WORK);
    for (String name : List.of("package.json", "package-lock.json", "generate.mjs")) {
      Files.copy(SOURCE.resolve(name), WORK.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
    if (Files.isDirectory(WORK.resolve("node_modules").resolve("openai"))) {
      return;
    }
    Run ci = run(WORK, 300, "npm", "ci", "--no-audit", "--no-fund");
    assertThat(ci.exit).as("npm ci in " + WORK + " (it needs the npm registry once):\n" + ci.output).isZero();
  }

  private record Run(int exit, String stdout, String output) {}

  private static Run run(Path dir, long timeoutS, String... command) throws IOException, InterruptedException {
    Path stdout = Files.createTempFile("openai-client", ".out");
    Path stderr = Files.createTempFile("openai-client", ".err");
    Process process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    boolean done = process.waitFor(timeoutS, TimeUnit.SECONDS);
    if (!done) {
      process.destroyForcibly().waitFor();
    }
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    String err = Files.readString(stderr, StandardCharsets.UTF_8);
    Files.deleteIfExists(stdout);
    Files.deleteIfExists(stderr);
    return new Run(done ? process.exitValue() : -1, out, "stdout:\n" + out + "\nstderr:\n" + err
        + (done ? "" : "\n(killed after " + timeoutS + " s)"));
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    return path != null && java.util.Arrays.stream(path.split(File.pathSeparator))
        .anyMatch(dir -> Files.isExecutable(Paths.get(dir, program)));
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
