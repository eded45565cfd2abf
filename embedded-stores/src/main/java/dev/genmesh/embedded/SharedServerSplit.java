package dev.genmesh.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The step from one PostgreSQL server for every region to one server per region ({@link EmbeddedStores#startRegional}). */
final class SharedServerSplit {
  private static final Logger LOG = LoggerFactory.getLogger(SharedServerSplit.class);

  private SharedServerSplit() {}

  /**
   * An earlier version kept every region's database in one server ({@code <dataDir>/postgres}):
   * each region's server starts as a copy of it (the region's tables then move into its schema),
   * and the shared one is renamed {@code postgres.before-replication}, so nothing it held is lost.
   */
  static void split(Path dataDir, Collection<String> regions) throws IOException {
    Path shared = dataDir.resolve("postgres");
    if (!Files.exists(shared.resolve("PG_VERSION"))) {
      return;
    }
    for (String region : regions) {
      Path own = dataDir.resolve("postgres-" + region);
      if (!Files.exists(own.resolve("PG_VERSION"))) {
        LOG.info("copying the shared PostgreSQL data of an earlier version to {}", own);
        try (var paths = Files.walk(shared)) {
          for (Path from : paths.toList()) {
            Path to = own.resolve(shared.relativize(from).toString());
            if (Files.isDirectory(from)) {
              Files.createDirectories(to);
              // PostgreSQL refuses a data directory others may read (the copy gets the umask's rights).
              Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(from));
            } else if (!from.getFileName().toString().equals("postmaster.pid")) {
              Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
          }
        }
      }
    }
    Files.move(shared, dataDir.resolve("postgres.before-replication"));
  }
}
