package dev.genmesh.launcher.chaos;

import io.vertx.core.json.JsonObject;

/**
 * Whole regions the control API can take down and bring back ({@code genmesh up --region-processes}:
 * each region's node, workers, PostgreSQL and Redis are processes of their own), and each region's own Redis server
 * alone. A one-JVM mesh has none.
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

  /**
   * {@code {region: {port, pid, running}}} of each region's own Redis server ({@code --region-processes}); empty when
   * the regions share one.
   */
  default JsonObject redis() {
    return new JsonObject();
  }

  /** The pid of {@code region}'s own Redis server while it runs; empty when it does not (or it has none). */
  default java.util.Optional<Long> redisPid(String region) {
    return java.util.Optional.empty();
  }

  /**
   * Starts {@code region}'s own Redis server again on its data and port when it is not running (the region's node
   * reconnects and rebuilds its queues from the request log, I2); blocking.
   */
  default JsonObject startRedis(String region) {
    throw new IllegalStateException("the regions of this mesh have no Redis of their own: start it with"
        + " 'genmesh up --region-processes'");
  }

  /** {@code {region: {running, node_pid, workers: {id: pid}, postgres_pid, postgres_port, node_log}}}. */
  JsonObject describe();

  /** SIGKILLs every process of {@code region} at once; blocking, returns once they are gone. */
  JsonObject kill(String region);

  /** Starts {@code region}'s processes again on its data; blocking, returns once its node answers. */
  JsonObject start(String region);
}
