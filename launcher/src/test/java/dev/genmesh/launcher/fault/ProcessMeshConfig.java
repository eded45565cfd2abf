package dev.genmesh.launcher.fault;

import java.nio.file.Path;
import java.util.Collection;

/** The config file every process of a {@link ProcessMesh} reads (no environment: ChildProcesses clears it). */
final class ProcessMeshConfig {
  private ProcessMeshConfig() {}

  /** Where a process reaches another region: its API, PostgreSQL and object store ports (a proxy's, when cut-able). */
  record SeenAt(int httpPort, int pgPort, int s3Port) {}

  /**
   * @param seen region → where this file's readers reach it (absent: its own ports)
   * @param clusterPorts region → the first of its Hazelcast ports (every file of a mesh names the same)
   */
  static String yaml(Collection<ProcessMesh.Region> regions, String edgeUrl, int edgePort, Path credentials,
      java.util.Map<String, SeenAt> seen, java.util.Map<String, Integer> clusterPorts) {
    StringBuilder yaml = new StringBuilder("regions:\n");
    StringBuilder stores = new StringBuilder();
    for (ProcessMesh.Region own : regions) {
      SeenAt at = seen.getOrDefault(own.name(), new SeenAt(own.httpPort(), own.pgPort(), own.s3Port()));
      ProcessMesh.Region region = new ProcessMesh.Region(own.name(), own.httpPort(), at.pgPort(), own.redisPort(),
          at.s3Port(), own.dir());
      // The node binds any port (0); everyone, the node itself included, reaches it through a proxy (ProcessMesh).
      String apiUrl = "http://127.0.0.1:" + at.httpPort();
      int cluster = clusterPorts.get(own.name());
      yaml.append("""
            %1$s:
              http_host: 127.0.0.1
              http_port: 0
              api_url: "%8$s"
              cluster_port: %3$d
              cluster_members: ["127.0.0.1:%3$d-%4$d"]
              postgres: {host: 127.0.0.1, port: %5$d, database: %6$s, user: postgres, pool_size: 8}
              redis: {url: "redis://127.0.0.1:%7$d", key_prefix: "genmesh:%1$s:"}
          """.formatted(region.name(), region.httpPort(), cluster, cluster + 4, region.pgPort(), ProcessMesh.DATABASE,
          region.redisPort(), apiUrl));
      stores.append("    %s: {endpoint: \"http://127.0.0.1:%d\"}\n".formatted(region.name(), region.s3Port()));
    }
    yaml.append("""
        edge:
          port: 0
          region_health_interval_ms: 500
          region_timeout_ms: 5000
        users:
          enabled: false
        worker:
          heartbeat_interval_ms: 500
          claim_poll_ms: 200
        health:
          heartbeat_interval_ms: 500
          heartbeat_timeout_ms: 1500
          unhealthy_after_misses: 3
        queue:
          lease_ms: 10000
          lease_reap_interval_ms: 500
        registry:
          primary: ""                # each region keeps the bundled model its workers bring
        images:
          credentials_file: "%2$s"
          copies: {to: ring, interval_ms: 500}
          regions:
        %3$sreplication:
          mode: sync
          on_peer_loss: degrade
          check_interval_ms: 200
          peer_timeout_ms: 2000
        failover:
          enabled: true
          detect_after_ms: %4$d
          fence_after_ms: %5$d
          failback_after_ms: %6$d
          poll_interval_ms: %7$d
          poll_timeout_ms: %8$d
          edge_url: "%9$s"
          dns:
            provider: dry-run
        """.formatted(edgePort, credentials, stores, ProcessMesh.DETECT_MS, ProcessMesh.FENCE_MS, ProcessMesh.FAILBACK_MS,
        ProcessMesh.POLL_MS, ProcessMesh.POLL_TIMEOUT_MS, edgeUrl));
    return yaml.toString();
  }
}
