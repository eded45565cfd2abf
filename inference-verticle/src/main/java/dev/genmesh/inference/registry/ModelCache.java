package dev.genmesh.inference.registry;

import dev.genmesh.inference.pipeline.ModelCorruptedException;
import dev.genmesh.inference.pipeline.ModelStore;
import dev.genmesh.registry.BundleCheck;
import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.Sha256;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The worker's model cache, {@code <model root>/<name>/<version>}: the same layout the bundled
 * build uses, so a locally built copy of a published version counts as cached. A version
 * enters the cache whole: it is assembled in a staging folder and renamed into place. Which
 * versions stay is {@link CacheRetention}'s business.
 */
final class ModelCache {
  /** The version a worker last loaded, per model: the best guess when the registry is away. */
  private static final String LAST = "LAST";

  private final Path root;

  ModelCache(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  Path dir(String name, String version) {
    return root.resolve(name).resolve(version);
  }

  /**
   * What is wrong with the cached copy compared with the registry's manifest: empty when it is
   * whole (every file verified by {@link ModelStore#verify}).
   */
  Optional<String> problem(String name, String version, JsonObject registryManifest) {
    Path dir = dir(name, version);
    if (!Files.isDirectory(dir)) {
      return Optional.of("not cached");
    }
    try {
      JsonObject cached = new JsonObject(Files.readString(dir.resolve(BundleCheck.MANIFEST), StandardCharsets.UTF_8));
      if (!fileSet(cached).equals(fileSet(registryManifest))) {
        return Optional.of("the cached manifest lists other files than the registry's");
      }
    } catch (IOException | RuntimeException e) {
      return Optional.of("model file '" + BundleCheck.MANIFEST + "' is unreadable: " + e.getMessage());
    }
    return verify(dir);
  }

  /** The existing load-time check, as a problem text. */
  static Optional<String> verify(Path dir) {
    try {
      ModelStore.verify(dir);
      return Optional.empty();
    } catch (ModelCorruptedException e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * Assembles the version in a staging folder, taking files that are already good from the
   * cached copy and downloading the others (each checked as it arrives), then renames it into
   * place. A download that does not match fails the whole pull.
   */
  void pull(RegistryClient client, String name, String version, byte[] manifestBytes, JsonObject manifest)
      throws IOException {
    Path target = dir(name, version);
    Files.createDirectories(target.getParent());
    Path staging = target.resolveSibling(".pull-" + version + "-" + UUID.randomUUID());
    try {
      Files.createDirectories(staging);
      for (ManifestFile entry : ManifestFile.listedIn(manifest)) {
        String path = entry.path();
        Path into = staging.resolve(path).normalize();
        if (!into.startsWith(staging) || path.equals(BundleCheck.MANIFEST)) {
          throw new RegistryClient.ChecksumMismatch(path, "lies outside the model directory");
        }
        Path cached = target.resolve(path);
        if (good(cached, entry)) {
          Files.createDirectories(into.getParent());
          linkOrCopy(cached, into);
        } else {
          client.download(name, version, path, into, entry.sha256(), entry.size());
        }
      }
      Files.write(staging.resolve(BundleCheck.MANIFEST), manifestBytes);
      replace(target, staging);
    } finally {
      deleteTree(staging);
    }
  }

  /** Removes a cached version (it is bad, and nobody should load it by mistake). */
  void evict(String name, String version) throws IOException {
    Path target = dir(name, version);
    if (Files.exists(target)) {
      Path aside = target.resolveSibling(".evicted-" + version + "-" + UUID.randomUUID());
      Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(aside);
    }
  }

  /** Versions present in the cache (whole or not), by folder name. */
  List<String> versions(String name) {
    Path dir = root.resolve(name);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> children = Files.list(dir)) {
      return children.filter(Files::isDirectory).map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith(".")).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  void remember(String name, String version) {
    try {
      Path file = root.resolve(name).resolve(LAST);
      Path temp = file.resolveSibling(".last-" + UUID.randomUUID());
      Files.writeString(temp, version + "\n", StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException ignored) {
      // a hint only: without it the worker falls back to the configured version
    }
  }

  Optional<String> last(String name) {
    try {
      return Optional.of(Files.readString(root.resolve(name).resolve(LAST), StandardCharsets.UTF_8).trim())
          .filter(v -> !v.isEmpty());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static boolean good(Path file, ManifestFile entry) {
    try {
      return Files.isRegularFile(file) && Files.size(file) == entry.size()
          && Sha256.of(file).equalsIgnoreCase(entry.sha256());
    } catch (IOException e) {
      return false;
    }
  }

  private static void linkOrCopy(Path from, Path to) throws IOException {
    try {
      Files.createLink(to, from);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Swaps the staged copy in; the old one (if any) goes aside first and is deleted after. */
  private static void replace(Path target, Path staging) throws IOException {
    Path aside = null;
    if (Files.exists(target)) {
      aside = target.resolveSibling(".replaced-" + target.getFileName() + "-" + UUID.randomUUID());
      Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
    }
    try {
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
      // Another worker sharing this cache placed its copy meanwhile; the caller checks it.
    } finally {
      if (aside != null) {
        deleteTree(aside);
      }
    }
  }

  private static Set<ManifestFile> fileSet(JsonObject manifest) {
    Set<ManifestFile> out = new HashSet<>();
    for (ManifestFile entry : ManifestFile.listedIn(manifest)) {
      out.add(new ManifestFile(entry.path(), entry.sha256().toLowerCase(), entry.size()));
    }
    return out;
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
