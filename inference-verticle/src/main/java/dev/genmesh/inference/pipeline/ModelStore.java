package dev.genmesh.inference.pipeline;

import dev.genmesh.inference.model.ModelContract;
import dev.genmesh.inference.model.ModelManifest;
import dev.genmesh.registry.BundleCheck;
import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.SavedModelBundle;

/**
 * Loads models from disk, and only models whose every file matches the SHA-256 in
 * {@code manifest.json}: a damaged model fails here with the file named, not later with garbage
 * images.
 */
public final class ModelStore {

  private static final Logger log = LoggerFactory.getLogger(ModelStore.class);

  private ModelStore() {}

  /**
   * Verifies then loads, with intra-op and inter-op thread pools of the given sizes.
   *
   * @throws ModelCorruptedException if the manifest or a file it lists is missing or damaged
   * @throws IncompatibleModelException if the model lacks a contract signature
   */
  public static LoadedModel load(Path modelDir, int intraOpThreads, int interOpThreads) {
    return load(modelDir, SessionSettings.threads(intraOpThreads, interOpThreads));
  }

  /** Verifies then loads with {@code settings} (threads, GPU device list, memory growth). */
  public static LoadedModel load(Path modelDir, SessionSettings settings) {
    long start = System.nanoTime();
    ModelManifest manifest = verify(modelDir);
    SavedModelBundle bundle = SavedModelBundle.loader(modelDir.toString())
        .withTags(ModelContract.SERVE_TAG)
        .withConfigProto(settings.toConfigProto())
        .load();
    try {
      LoadedModel model = new LoadedModel(modelDir, manifest, bundle);
      log.info("loaded model {} {} from {} in {} ms", manifest.name(), manifest.version(),
          modelDir, (System.nanoTime() - start) / 1_000_000);
      return model;
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  /** Checks every file listed in the manifest; returns the manifest. */
  public static ModelManifest verify(Path modelDir) {
    ModelManifest manifest;
    try {
      manifest = ModelManifest.read(modelDir);
    } catch (NoSuchFileException e) {
      throw new ModelCorruptedException(BundleCheck.MANIFEST, "is missing");
    } catch (IOException | RuntimeException e) {
      throw new ModelCorruptedException(BundleCheck.MANIFEST, "is unreadable: " + e);
    }
    if (manifest.files().isEmpty()) {
      throw new ModelCorruptedException(BundleCheck.MANIFEST, "lists no files");
    }
    Path root = modelDir.toAbsolutePath().normalize();
    for (ManifestFile entry : manifest.files()) {
      verifyFile(root, entry);
    }
    return manifest;
  }

  static void verifyFile(Path root, ManifestFile entry) {
    Path file = root.resolve(entry.path()).normalize();
    if (!file.startsWith(root)) {
      throw new ModelCorruptedException(entry.path(), "lies outside the model directory");
    }
    if (!Files.isRegularFile(file)) {
      throw new ModelCorruptedException(entry.path(), "is missing");
    }
    try {
      long size = Files.size(file);
      if (size != entry.size()) {
        throw new ModelCorruptedException(entry.path(),
            "has " + size + " bytes, the manifest says " + entry.size());
      }
      String actual = Sha256.of(file);
      if (!actual.equalsIgnoreCase(entry.sha256())) {
        throw new ModelCorruptedException(entry.path(),
            "has SHA-256 " + actual + ", the manifest says " + entry.sha256());
      }
    } catch (IOException e) {
      throw new ModelCorruptedException(entry.path(), "is unreadable: " + e.getMessage());
    }
  }
}
