package dev.genmesh.launcher.generate;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.launcher.Mesh;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code genmesh up --regions us-west} in the test JVM for the client's tests: the edge, one region
 * node with its PostgreSQL, Redis and object store, and one CPU worker that serves
 * {@link #SERVED} only, so a request for {@link #UNSERVED} waits in its queue until cancelled.
 */
final class OneRegionMesh {
  static final String SERVED = "genmesh-tiny";
  static final String UNSERVED = "genmesh-small";

  private OneRegionMesh() {}

  static Mesh start(Path dataDir) {
    GenmeshConfig loaded = ConfigLoader.load(null, Map.of(
        "GENMESH_WORKER__CLAIM_POLL_MS", "200",
        "GENMESH_WORKER__MODELS", "[" + SERVED + "]",
        "GENMESH_EDGE__REGION_HEALTH_INTERVAL_MS", "500"));
    GenmeshConfig config = loaded.withRegions(Map.of("us-west", loaded.region("us-west")));
    return Mesh.start(config, new Mesh.Options(dataDir, true, false, "127.0.0.1"), step -> {});
  }
}
