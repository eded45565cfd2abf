package dev.genmesh.registry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A model registry on disk: {@code <root>/<name>/<version>/} holds an immutable bundle
 * ({@code manifest.json} plus the files it lists with their SHA-256), and {@code <root>/<name>/CURRENT}
 * names the version workers should run. Every change lands with an atomic rename, so a reader
 * (the region node serving it, a worker pulling) sees a whole version or none.
 *
 * <p>All methods block (file I/O and hashing): call them off the event loop.
 */
public final class ModelRegistry {
  public static final String CURRENT = "CURRENT";

  private final Path root;
  private final Clock clock;

  public ModelRegistry(Path root) {
    this(root, Clock.systemUTC());
  }

  /** @param clock stamps {@code created_at} on publish */
  public ModelRegistry(Path root, Clock clock) {
    this.root = root.toAbsolutePath().normalize();
    this.clock = clock;
  }

  public Path root() {
    return root;
  }

  /** Model names with at least a folder, sorted. */
  public List<String> names() {
    return childDirs(root).stream().map(p -> p.getFileName().toString()).filter(BundleCheck::validName).sorted().toList();
  }

  /** The published versions of {@code name}, oldest first (by {@code created_at}, then version). */
  public List<PublishedVersion> versions(String name) {
    if (!BundleCheck.validName(name)) {
      return List.of();
    }
    List<PublishedVersion> out = new ArrayList<>();
    for (Path dir : childDirs(root.resolve(name))) {
      String version = dir.getFileName().toString();
      if (BundleCheck.validName(version)) {
        readVersion(name, version).ifPresent(out::add);
      }
    }
    out.sort(PUBLISH_ORDER);
    return out;
  }

  public Optional<PublishedVersion> version(String name, String version) {
    if (!BundleCheck.validName(name) || !BundleCheck.validName(version)) {
      return Optional.empty();
    }
    return readVersion(name, version);
  }

  /** The version {@code CURRENT} names, if it names a published one. */
  public Optional<String> current(String name) {
    if (!BundleCheck.validName(name)) {
      return Optional.empty();
    }
    try {
      String version = Files.readString(root.resolve(name).resolve(CURRENT), StandardCharsets.UTF_8).trim();
      return version(name, version).map(PublishedVersion::version);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + root.resolve(name).resolve(CURRENT), e);
    }
  }

  /** A file of a published version, only if its manifest lists it (nothing else is reachable). */
  public Optional<ServedFile> file(String name, String version, String path) {
    if (!BundleCheck.safePath(path)) {
      return Optional.empty();
    }
    return version(name, version).flatMap(v -> v.file(path)
        .map(entry -> new ServedFile(v.dir().resolve(path), entry.sha256(), entry.size())));
  }

  /** A listed file: where it is and what it should hash to. */
  public record ServedFile(Path path, String sha256, long size) {}

  /**
   * Publishes a bundle: checks its manifest and every checksum, copies the listed files into a
   * staging folder, checks the copies, and renames the folder into place. A version that exists
   * is never replaced. Stamps {@code created_at} (now) and {@code previous_version} (what was
   * current) unless the manifest carries them. The first version of a model becomes current.
   *
   * @param makeCurrent point {@code CURRENT} at the new version
   * @throws RegistryException when the bundle is bad or the version already exists
   */
  public PublishedVersion publish(Path bundleDir, boolean makeCurrent) {
    JsonObject manifest = BundleCheck.check(bundleDir);
    String name = manifest.getString("name");
    String version = manifest.getString("version");
    Path modelDir = root.resolve(name);
    Path target = modelDir.resolve(version);
    if (Files.exists(target)) {
      throw new RegistryException(name + " " + version + " is already published; versions are immutable, publish a new one");
    }
    Optional<String> previous = current(name);
    if (!manifest.containsKey("created_at")) {
      manifest.put("created_at", clock.instant().toString());
    }
    if (!manifest.containsKey("previous_version")) {
      manifest.put("previous_version", previous.filter(p -> !p.equals(version)).orElse(null));
    }
    try {
      Files.createDirectories(modelDir);
      Path staging = modelDir.resolve(".publish-" + version + "-" + UUID.randomUUID());
      try {
        copyBundle(bundleDir, staging, manifest);
        try {
          Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
          throw new RegistryException(name + " " + version + " was published meanwhile by someone else; versions are immutable");
        }
      } finally {
        deleteTree(staging);
      }
      fsync(modelDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish " + name + " " + version + " into " + modelDir, e);
    }
    if (makeCurrent || previous.isEmpty()) {
      setCurrent(name, version);
    }
    return version(name, version).orElseThrow();
  }

  /**
   * Publishes a bundle already staged inside this registry, in a hidden folder of its model's
   * folder ({@code <root>/<name>/.<anything>}, a mirror's download): checks it as {@link #publish}
   * does, keeps its manifest byte for byte (the primary's {@code created_at} and
   * {@code previous_version} included) and renames the folder into place. {@code CURRENT} is not
   * touched. The staged folder is gone afterwards, published or not.
   *
   * @throws RegistryException when the bundle is bad (a file that does not match its SHA-256) or
   *     the version is already published
   */
  public PublishedVersion adopt(Path staged) {
    try {
      JsonObject manifest = BundleCheck.check(staged);
      String name = manifest.getString("name");
      String version = manifest.getString("version");
      Path modelDir = root.resolve(name);
      if (!staged.toAbsolutePath().normalize().getParent().equals(modelDir)
          || !staged.getFileName().toString().startsWith(".")) {
        throw new RegistryException(staged + " is not a hidden folder of " + modelDir);
      }
      Path target = modelDir.resolve(version);
      if (Files.exists(target)) {
        throw new RegistryException(name + " " + version + " is already published; versions are immutable");
      }
      for (ManifestFile file : ManifestFile.listedIn(manifest)) {
        fsyncFile(staged.resolve(file.path()));
      }
      fsyncFile(staged.resolve(BundleCheck.MANIFEST));
      try {
        Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
        throw new RegistryException(name + " " + version + " is already published; versions are immutable");
      }
      fsync(modelDir);
      return version(name, version).orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot adopt " + staged + " into " + root, e);
    } finally {
      try {
        deleteTree(staged);
      } catch (IOException e) {
        // a leftover hidden folder is invisible to readers; the mirror clears them at start
      }
    }
  }

  /**
   * Deletes hidden staging folders of every model whose name starts with {@code prefix}
   * ({@code .mirror-}), or one such folder when {@code only} is given: what a failed or
   * interrupted download left.
   */
  public void discardStaged(String prefix, Path only) throws IOException {
    if (!prefix.startsWith(".")) {
      throw new IllegalArgumentException("staging folders are hidden: " + prefix);
    }
    for (String name : names()) {
      try (Stream<Path> children = Files.list(root.resolve(name))) {
        for (Path child : children.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
          if (only == null || child.equals(only.toAbsolutePath().normalize())) {
            deleteTree(child);
          }
        }
      }
    }
  }

  /** Points {@code CURRENT} at a published version (written aside, then renamed over the old pointer). */
  public void setCurrent(String name, String version) {
    if (version(name, version).isEmpty()) {
      throw new RegistryException(name + " " + version + " is not published in " + root);
    }
    Path modelDir = root.resolve(name);
    Path temp = modelDir.resolve(".current-" + UUID.randomUUID());
    try {
      Files.writeString(temp, version + "\n", StandardCharsets.UTF_8);
      fsyncFile(temp);
      Files.move(temp, modelDir.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fsync(modelDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot point " + name + " at " + version, e);
    } finally {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // best effort: a stray temp file is ignored by readers
      }
    }
  }

  /**
   * Moves {@code CURRENT} back: to {@code to} when given, else to the current version's
   * {@code previous_version} when that is published, else to the version published before it.
   *
   * @return the version {@code CURRENT} now names
   */
  public String rollback(String name, String to) {
    String from = current(name).orElseThrow(() -> new RegistryException(name + " has no current version in " + root));
    String target = to != null ? to : previousOf(name, from);
    if (version(name, target).isEmpty()) {
      throw new RegistryException(name + " " + target + " is not published in " + root);
    }
    if (target.equals(from)) {
      throw new RegistryException(name + " " + from + " is already current");
    }
    setCurrent(name, target);
    return target;
  }

  private String previousOf(String name, String from) {
    PublishedVersion current = version(name, from).orElseThrow();
    if (current.previousVersion() != null && version(name, current.previousVersion()).isPresent()) {
      return current.previousVersion();
    }
    List<PublishedVersion> all = versions(name);
    for (int i = all.size() - 1; i > 0; i--) {
      if (all.get(i).version().equals(from)) {
        return all.get(i - 1).version();
      }
    }
    throw new RegistryException(name + " has no version before " + from + " to roll back to");
  }

  /** The JSON of {@code GET /regional/v1/models} (region-node/API.md). */
  public JsonObject listing() {
    JsonArray models = new JsonArray();
    for (String name : names()) {
      List<PublishedVersion> versions = versions(name);
      if (versions.isEmpty()) {
        continue;
      }
      JsonArray list = new JsonArray();
      versions.forEach(v -> list.add(v.toListingJson()));
      models.add(new JsonObject().put("name", name).put("current", current(name).orElse(null)).put("versions", list));
    }
    return new JsonObject().put("models", models);
  }

  private Optional<PublishedVersion> readVersion(String name, String version) {
    Path dir = root.resolve(name).resolve(version);
    if (!Files.isRegularFile(dir.resolve(BundleCheck.MANIFEST))) {
      return Optional.empty();
    }
    try {
      JsonObject manifest = BundleCheck.readManifest(dir);
      // A folder whose manifest names another model or version is not that version.
      if (!name.equals(manifest.getValue("name")) || !version.equals(manifest.getValue("version"))) {
        return Optional.empty();
      }
      return Optional.of(PublishedVersion.of(dir, manifest));
    } catch (RegistryException unreadable) {
      return Optional.empty();
    }
  }

  private static void copyBundle(Path from, Path staging, JsonObject manifest) throws IOException {
    Files.createDirectories(staging);
    for (ManifestFile file : ManifestFile.listedIn(manifest)) {
      String path = file.path();
      Path target = staging.resolve(path);
      Files.createDirectories(target.getParent());
      Files.copy(from.resolve(path), target);
      fsyncFile(target);
    }
    Files.writeString(staging.resolve(BundleCheck.MANIFEST), manifest.encodePrettily() + "\n", StandardCharsets.UTF_8);
    fsyncFile(staging.resolve(BundleCheck.MANIFEST));
    List<String> problems = BundleCheck.contents(staging, manifest);
    if (!problems.isEmpty()) {
      throw new RegistryException("the bundle changed while it was copied: " + String.join("; ", problems));
    }
  }

  private static final Comparator<PublishedVersion> PUBLISH_ORDER = Comparator
      .comparing(PublishedVersion::createdAt, Comparator.nullsFirst(Comparator.naturalOrder()))
      .thenComparing(PublishedVersion::version, VersionOrder.INSTANCE);

  private static List<Path> childDirs(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> children = Files.list(dir)) {
      return children.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  private static void fsyncFile(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  /** Makes a rename in {@code dir} durable; some file systems refuse to open a folder, which is fine. */
  private static void fsync(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException ignored) {
      // not supported here: the rename is still atomic, only its durability is the OS's
    }
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
