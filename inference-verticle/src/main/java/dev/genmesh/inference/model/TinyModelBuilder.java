package dev.genmesh.inference.model;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.SavedModel;

/**
 * Builds the bundled tiny text-to-image model: a real SavedModel with the three signatures of
 * {@link ModelContract}, seeded weights, and its {@code manifest.json}. Same seed, same weights.
 *
 * <p>Run as a tool: {@code TinyModelBuilder outDir [name] [version] [weightSeed]}.
 */
public final class TinyModelBuilder {

  public static final String DEFAULT_NAME = "genmesh-tiny";
  public static final String DEFAULT_VERSION = "1";
  public static final long DEFAULT_WEIGHT_SEED = 20261127L;

  public static final ModelManifest.Range IMAGE_SIDE = new ModelManifest.Range(256, 1024, 64);
  public static final ModelManifest.Range STEPS = new ModelManifest.Range(1, 50, 1);

  /** What a previous build leaves in the directory; anything else there is refused. */
  private static final Set<String> OWN_ENTRIES =
      Set.of("saved_model.pb", "variables", ModelManifest.FILE_NAME);

  private TinyModelBuilder() {}

  /**
   * Writes the SavedModel and manifest into {@code outDir} (created if missing; a previous build
   * there is replaced) and returns the manifest.
   */
  public static ModelManifest build(Path outDir, String name, String version, long weightSeed)
      throws IOException {
    prepare(outDir);
    try (Graph graph = new Graph();
        Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      Parameters params = new Parameters(tf, weightSeed);
      List<Signature> signatures =
          List.of(
              TextEncoderGraph.build(tf, params),
              DenoiserGraph.build(tf, params),
              DecoderGraph.build(tf, params));
      params.assignAll(session);

      SavedModelBundle.Exporter exporter =
          SavedModelBundle.exporter(outDir.toString()).withTags(ModelContract.SERVE_TAG);
      for (Signature signature : signatures) {
        exporter.withFunction(SessionFunction.create(signature, session));
      }
      exporter.export();
    }
    rewriteDeterministically(outDir.resolve("saved_model.pb"));
    ModelManifest manifest =
        new ModelManifest(
            name,
            version,
            List.of(ModelContract.ENCODE_TEXT, ModelContract.DENOISE_STEP, ModelContract.DECODE),
            IMAGE_SIDE,
            IMAGE_SIDE,
            STEPS,
            ModelManifest.inventory(outDir));
    manifest.write(outDir);
    return manifest;
  }

  /**
   * TF serialises the graph's attribute maps in hash order, which differs from run to run; with
   * sorted maps the same seed gives the same bytes, so two workers building the model
   * independently produce the same manifest.
   */
  private static void rewriteDeterministically(Path savedModelPb) throws IOException {
    SavedModel model = SavedModel.parseFrom(Files.readAllBytes(savedModelPb));
    try (OutputStream file = Files.newOutputStream(savedModelPb)) {
      CodedOutputStream out = CodedOutputStream.newInstance(file);
      out.useDeterministicSerialization();
      model.writeTo(out);
      out.flush();
    }
  }

  private static void prepare(Path outDir) throws IOException {
    Files.createDirectories(outDir);
    try (Stream<Path> entries = Files.list(outDir)) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        String fileName = entry.getFileName().toString();
        if (!OWN_ENTRIES.contains(fileName)) {
          throw new IOException(
              outDir + " holds " + fileName + ", which is not part of a model: refusing to build"
                  + " there");
        }
        deleteRecursively(entry);
      }
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 1 || args.length > 4) {
      System.err.println("usage: TinyModelBuilder outDir [name] [version] [weightSeed]");
      System.exit(2);
    }
    Path outDir = Paths.get(args[0]);
    String name = args.length > 1 ? args[1] : DEFAULT_NAME;
    String version = args.length > 2 ? args[2] : DEFAULT_VERSION;
    long seed = args.length > 3 ? Long.parseLong(args[3]) : DEFAULT_WEIGHT_SEED;
    ModelManifest manifest = build(outDir, name, version, seed);
    System.out.println(manifest.toJson().encodePrettily());
  }
}
