package dev.genmesh.launcher;

import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.launcher.impl.RegistryTarget;
import dev.genmesh.registry.ModelRegistry;
import dev.genmesh.registry.PublishedVersion;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code genmesh model}: publish a version into the primary region's registry, move its current
 * version back, list what is there. The registry folder is the one a region node serves
 * ({@code <data dir>/registry/<region>} by default); workers notice a new current version within
 * {@code registry.poll_interval_ms}, the other regions within {@code registry.mirror_interval_ms}.
 * A publish or rollback aimed at another region, or made while the primary does not answer, is
 * refused (exit 2) with where to go instead ({@link RegistryTarget}).
 */
@Command(name = "model", mixinStandardHelpOptions = true,
    description = "Manage a region's model registry (publish, rollback, list).",
    subcommands = {ModelCommands.Publish.class, ModelCommands.Rollback.class, ModelCommands.ListModels.class})
final class ModelCommands implements Runnable {
  /** Exit status of a change refused because it is aimed at the wrong registry. */
  static final int REFUSED = 2;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Which registry a change goes to: {@code --region} (default: the primary) or a folder. */
  static final class Target {
    @Mixin CommonOptions common;

    @Option(names = "--region", paramLabel = "REGION", description = "The region whose registry to change (default: registry.primary).")
    String region;

    @Option(names = "--registry", paramLabel = "DIR", description = "A registry folder; when it is a configured region's"
        + " (<registry root>/<region>) the same rules apply as with --region.")
    Path registry;

    /** The registry to change, or null once the refusal is printed. */
    ModelRegistry writable(CommandSpec spec, String retry) {
      GenmeshConfig config = common.loadConfig();
      RegistryTarget target = RegistryTarget.of(config, CommonOptions.registryRoot(config, common.dataDir()), registry, region);
      Optional<String> refusal = target.refusal(config, retry);
      if (refusal.isPresent()) {
        spec.commandLine().getErr().println("genmesh: " + refusal.get());
        return null;
      }
      return new ModelRegistry(target.dir());
    }
  }

  @Command(name = "publish", mixinStandardHelpOptions = true,
      description = "Publish a model bundle (manifest.json + files): checks every SHA-256, copies it in atomically,"
          + " never replaces a published version. The first version of a model becomes current.")
  static final class Publish implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Target target;

    @Option(names = "--from", required = true, paramLabel = "BUNDLE_DIR", description = "Folder holding manifest.json and the files it lists.")
    Path from;

    @Option(names = "--current", description = "Make the new version the one workers run.")
    boolean current;

    @Override
    public Integer call() {
      ModelRegistry models = target.writable(spec, "genmesh model publish --region REGION --from " + from
          + (current ? " --current" : ""));
      if (models == null) {
        return REFUSED;
      }
      PublishedVersion published = models.publish(from, current);
      boolean isCurrent = models.current(published.name()).map(published.version()::equals).orElse(false);
      spec.commandLine().getOut().printf("published %s %s (%d files, %d bytes) into %s%s%n", published.name(),
          published.version(), published.files().size(), published.sizeBytes(), models.root(),
          isCurrent ? "; it is current" : "; current stays " + models.current(published.name()).orElse("-"));
      return 0;
    }
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = "Point CURRENT back: to --to, else to the previous version of the current one.")
  static final class Rollback implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Target target;

    @Option(names = "--name", required = true, description = "Model name.")
    String name;

    @Option(names = "--to", paramLabel = "VERSION", description = "Version to make current (default: the previous one).")
    String to;

    @Override
    public Integer call() {
      ModelRegistry models = target.writable(spec, "genmesh model rollback --region REGION --name " + name
          + (to == null ? "" : " --to " + to));
      if (models == null) {
        return REFUSED;
      }
      String from = models.current(name).orElse("-");
      String now = models.rollback(name, to);
      spec.commandLine().getOut().printf("%s: current %s -> %s%n", name, from, now);
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List models, versions and which one is current.")
  static final class ListModels implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--registry", required = true, paramLabel = "DIR", description = "The region's registry folder.")
    Path registry;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      if (!Files.isDirectory(registry)) {
        out.println("no registry at " + registry.toAbsolutePath());
        return 1;
      }
      ModelRegistry models = new ModelRegistry(registry);
      List<String> names = models.names();
      if (names.isEmpty()) {
        out.println("no models in " + models.root());
      }
      for (String name : names) {
        String current = models.current(name).orElse(null);
        out.println(name);
        for (PublishedVersion version : models.versions(name)) {
          out.printf("  %s %-12s %s  %d files, %d bytes%s%n", version.version().equals(current) ? "*" : " ",
              version.version(), version.createdAt() == null ? "-" : version.createdAt(), version.files().size(),
              version.sizeBytes(), version.previousVersion() == null ? "" : "  (after " + version.previousVersion() + ")");
        }
      }
      return 0;
    }
  }
}
