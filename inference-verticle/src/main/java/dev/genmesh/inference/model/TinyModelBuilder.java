package dev.genmesh.inference.model;

import com.google.protobuf.CodedOutputStream;
import dev.genmesh.registry.BundleCheck;
import dev.genmesh.registry.ManifestFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
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
 * Builds a model of the bundled family ({@link ModelArchitecture}): a real SavedModel with the
 * signatures of {@link ModelContract}, seeded weights, its LoRA adapters and its
 * {@code manifest.json}. Same architecture and seed, same bytes.
 *
 * <p>Run as a tool: {@code TinyModelBuilder outDir [name] [version] [weightSeed]}; the name picks
 * the architecture ({@code genmesh-small}: the small one, anything else: the tiny one).
 */
public final class TinyModelBuilder {

  public static final String DEFAULT_NAME = "genmesh-tiny";
  public static final String DEFAULT_VERSION = "1";
  /** The tiny architecture's seed; each architecture has its own default. */
  public static final long DEFAULT_WEIGHT_SEED = 20261127L;

  public static final ModelManifest.Range IMAGE_SIDE = new ModelManifest.Range(256, 1024, 64);
  public static final ModelManifest.Range STEPS = new ModelManifest.Range(1, 50, 1);

  /** What a previous build leaves in the directory; anything else there is refused. */
  private static final Set<String> OWN_ENTRIES =
      Set.of("saved_model.pb", "variables", "adapters", BundleCheck.MANIFEST);
  private static final int ADAPTER_RANK = 4;

  private TinyModelBuilder() {}

  /**
   * Writes the SavedModel and manifest into {@code outDir} (created if missing; a previous build
   * there is replaced) and returns the manifest. The architecture is the one {@code name} picks.
   */
  public static ModelManifest build(Path outDir, String name, String version, long weightSeed)
      throws IOException {
    return build(outDir, ModelArchitecture.forModelName(name), name, version, weightSeed);
  }

  /**
   * The bundled model {@code name} as every worker builds it: the architecture the name picks,
   * with that architecture's default weight seed.
   */
  public static ModelManifest build(Path outDir, String name, String version) throws IOException {
    ModelArchitecture arch = ModelArchitecture.forModelName(name);
    return build(outDir, arch, name, version, arch.defaultWeightSeed());
  }

  /** As {@link #build(Path, String, String, long)}, with the architecture given. */
  public static ModelManifest build(Path outDir, ModelArchitecture arch, String name,
      String version, long weightSeed) throws IOException {
    prepare(outDir);
    List<String> signatureNames = new ArrayList<>();
    try (Graph graph = new Graph();
        Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      Parameters params = new Parameters(tf, weightSeed);
      List<Signature> signatures = new ArrayList<>();
      signatures.add(TextEncoderGraph.build(tf, params));
      signatures.addAll(DenoiserGraph.build(tf, params, weightSeed, arch));
      signatures.add(DecoderGraph.build(tf, params));
      params.assignAll(session);

      SavedModelBundle.Exporter exporter =
          SavedModelBundle.exporter(outDir.toString()).withTags(ModelContract.SERVE_TAG);
      for (Signature signature : signatures) {
        exporter.withFunction(SessionFunction.create(signature, session));
        signatureNames.add(signature.key());
      }
      exporter.export();
    }
    rewriteDeterministically(outDir.resolve("saved_model.pb"));
    List<LoraAdapter> adapters = new ArrayList<>();
    for (String reference : arch.adapters()) {
      String[] nameVersion = reference.split("@", 2);
      LoraAdapter adapter = LoraAdapter.generate(nameVersion[0], nameVersion[1], ADAPTER_RANK,
          arch.hidden(), weightSeed ^ reference.hashCode());
      adapter.write(outDir.resolve(LoraAdapter.directory(adapter.name(), adapter.version())));
      adapters.add(adapter);
    }
    List<ManifestFile> files = ManifestFile.inventory(outDir);
    List<ModelManifest.AdapterEntry> adapterEntries = new ArrayList<>();
    for (LoraAdapter adapter : adapters) {
      String prefix = LoraAdapter.directory(adapter.name(), adapter.version()) + "/";
      adapterEntries.add(new ModelManifest.AdapterEntry(adapter.name(), adapter.version(),
          adapter.rank(), adapter.alpha(),
          files.stream().filter(f -> f.path().startsWith(prefix)).toList()));
    }
    List<ModelManifest.ConditioningEntry> conditioning = arch.conditioning().stream()
        .map(c -> new ModelManifest.ConditioningEntry(c, "control", 1)).toList();
    ModelManifest manifest =
        new ModelManifest(
            name,
            version,
            signatureNames,
            IMAGE_SIDE,
            IMAGE_SIDE,
            STEPS,
            files,
            adapterEntries,
            conditioning,
            arch.requestClasses(),
            VramEstimates.of(arch, variableBytes(files)));
    manifest.write(outDir);
    return manifest;
  }

  private static long variableBytes(List<ManifestFile> files) {
    return files.stream().filter(f -> f.path().startsWith("variables/"))
        .mapToLong(ManifestFile::size).sum();
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
      System.err.println("usage: TinyModelBuilder outDir [name] [version] [weightSeed]"
          + " (name genmesh-small: the small architecture)");
      System.exit(2);
    }
    Path outDir = Paths.get(args[0]);
    String name = args.length > 1 ? args[1] : DEFAULT_NAME;
    String version = args.length > 2 ? args[2] : DEFAULT_VERSION;
    ModelManifest manifest = args.length > 3
        ? build(outDir, name, version, Long.parseLong(args[3]))
        : build(outDir, name, version);
    System.out.println(manifest.toJson().encodePrettily());
  }
}
