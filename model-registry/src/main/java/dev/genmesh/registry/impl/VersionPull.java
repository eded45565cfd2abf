package dev.genmesh.registry.impl;

import dev.genmesh.registry.BundleCheck;
import dev.genmesh.registry.ManifestFile;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.PublishedVersion;
import dev.genmesh.registry.RegistryException;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * Copies one version from the primary into the local registry: its manifest and every file it
 * lists into a hidden staging folder next to where the version goes, then
 * {@link ModelRegistry#adopt}, which checks every size and SHA-256 against the manifest and
 * renames the folder into place. A file that does not match fails the pull
 * ({@link MirrorFailure.Reason#CHECKSUM}) and nothing is published.
 */
public final class VersionPull {
  /** Prefix of the staging folders (hidden: readers skip them). */
  public static final String STAGING_PREFIX = ".mirror-";

  private final PrimaryClient primary;
  private final ModelRegistry local;
  private final WorkerExecutor io;

  public VersionPull(PrimaryClient primary, ModelRegistry local, WorkerExecutor io) {
    this.primary = primary;
    this.local = local;
    this.io = io;
  }

  /** Pulls {@code name version}; completes with the published version. */
  public Future<PublishedVersion> pull(String name, String version) {
    return primary.manifest(name, version).compose(bytes -> {
      List<ManifestFile> files = filesOf(bytes, name, version);
      Path staging = local.root().resolve(name).resolve(STAGING_PREFIX + version + "-" + UUID.randomUUID());
      return io.executeBlocking(() -> Files.createDirectories(staging))
          .recover(err -> Future.failedFuture(localFailure("cannot create " + staging, err)))
          .compose(v -> downloadAll(name, version, files, staging))
          .compose(v -> io.executeBlocking(() -> {
            Files.write(staging.resolve(BundleCheck.MANIFEST), bytes.getBytes());
            return local.adopt(staging);
          }))
          .recover(err -> io.executeBlocking(() -> {
            local.discardStaged(STAGING_PREFIX, staging);
            return local.version(name, version).orElse(null); // published meanwhile by another pull: fine
          }).transform(held -> held.succeeded() && held.result() != null ? Future.succeededFuture(held.result())
              : Future.failedFuture(classify(name, version, err))));
    });
  }

  private Future<Void> downloadAll(String name, String version, List<ManifestFile> files, Path staging) {
    Future<Void> chain = io.executeBlocking(() -> {
      for (ManifestFile file : files) {
        Files.createDirectories(staging.resolve(file.path()).getParent());
      }
      return null;
    });
    for (ManifestFile file : files) {
      chain = chain.compose(v -> primary.download(name, version, file.path(), staging.resolve(file.path())));
    }
    return chain;
  }

  /** The manifest's file list, once it names this version and only safe paths (nothing lands outside staging). */
  private static List<ManifestFile> filesOf(Buffer bytes, String name, String version) {
    try {
      JsonObject manifest = bytes.toJsonObject();
      if (!name.equals(manifest.getValue("name")) || !version.equals(manifest.getValue("version"))) {
        throw bad(name, version, "its manifest names " + manifest.getValue("name") + " " + manifest.getValue("version"));
      }
      List<ManifestFile> files = ManifestFile.listedIn(manifest);
      for (ManifestFile file : files) {
        if (!BundleCheck.safePath(file.path())) {
          throw bad(name, version, "its manifest lists the unsafe path " + file.path());
        }
      }
      return files;
    } catch (RuntimeException e) {
      throw e instanceof MirrorFailure failure ? failure : bad(name, version, "its manifest is unreadable: " + e.getMessage());
    }
  }

  private static MirrorFailure classify(String name, String version, Throwable err) {
    if (err instanceof MirrorFailure failure) {
      return failure;
    }
    if (err instanceof RegistryException refused) {
      return new MirrorFailure(MirrorFailure.Reason.CHECKSUM, "the primary's " + name + " " + version
          + " was refused: " + refused.getMessage(), refused);
    }
    return localFailure("cannot store " + name + " " + version, err);
  }

  private static MirrorFailure bad(String name, String version, String why) {
    return new MirrorFailure(MirrorFailure.Reason.BAD_ANSWER, "the primary's " + name + " " + version + ": " + why);
  }

  private static MirrorFailure localFailure(String what, Throwable err) {
    return new MirrorFailure(MirrorFailure.Reason.LOCAL_IO, what + ": " + err.getMessage(), err);
  }
}
