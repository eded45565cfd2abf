package dev.genmesh.launcher.chaos;

import io.vertx.core.json.JsonObject;

/**
 * Whole regions the control API can take down and bring back ({@code genmesh up --region-processes}:
 * each region's node, workers and PostgreSQL are processes of their own). A one-JVM mesh has none.
 */
public interface RegionOutages {
  /** None: every region runs inside the mesh's JVM, and none can be lost alone. */
  RegionOutages NONE = new RegionOutages() {
    @Override
    public boolean available() {
      return false;
    }

    @Override
    public JsonObject describe() {
      return new JsonObject();
    }

    @Override
    public JsonObject kill(String region) {
      throw new IllegalStateException("this mesh runs every region inside one JVM: start it with"
          + " 'genmesh up --region-processes' to lose a region alone");
    }

    @Override
    public JsonObject start(String region) {
      return kill(region);
    }
  };

  boolean available();

  /** {@code {region: {running, node_pid, workers: {id: pid}, postgres_pid, postgres_port, node_log}}}. */
  JsonObject describe();

  /** SIGKILLs every process of {@code region} at once; blocking, returns once they are gone. */
  JsonObject kill(String region);

  /** Starts {@code region}'s processes again on its data; blocking, returns once its node answers. */
  JsonObject start(String region);
}
