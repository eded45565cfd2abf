package dev.genmesh.launcher;

import static dev.genmesh.launcher.K8sManifests.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The user database's CloudNativePG manifests ({@code k8s/users-db/<region>}): one {@code Cluster}
 * per region, every one naming the same primary, each committing synchronously to ANY 1 of the
 * other regions' clusters (never its own pods), with a source for each of them.
 */
class UserDbManifestsTest {
  private static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");

  @Test
  void oneClusterPerRegionAllFollowingOnePrimaryAndCommittingToAnotherRegion() throws IOException {
    List<Doc> clusters = ofKind("Cluster");
    assertThat(clusters.stream().map(Doc::name).collect(Collectors.toSet()))
        .containsExactlyInAnyOrderElementsOf(REGIONS.stream().map(r -> "genmesh-users-" + r).toList());
    String primary = "genmesh-users-" + dev.genmesh.config.ConfigLoader.defaults().users().primaryRegion();
    for (Doc cluster : clusters) {
      Map<String, Object> spec = map(cluster.body().get("spec"));
      assertThat(str(cluster.body().get("apiVersion"))).isEqualTo("postgresql.cnpg.io/v1");
      Map<String, Object> replica = map(spec.get("replica"));
      assertThat(str(replica.get("self"))).as("%s: replica.self", cluster).isEqualTo(cluster.name());
      assertThat(str(replica.get("primary"))).as("%s: the one primary", cluster).isEqualTo(primary);
      Map<String, Object> sync = map(map(spec.get("postgresql")).get("synchronous"));
      assertThat(str(sync.get("method"))).isEqualTo("any");
      assertThat(sync.get("number")).isEqualTo(1);
      assertThat(sync.get("maxStandbyNamesFromCluster")).as("%s: only other regions acknowledge", cluster).isEqualTo(0);
      assertThat(str(sync.get("dataDurability"))).isEqualTo("required");
      List<String> others = clusters.stream().map(Doc::name).filter(n -> !n.equals(cluster.name())).sorted().toList();
      assertThat(strings(sync.get("standbyNamesPre"))).as("%s: the other regions", cluster)
          .containsExactlyInAnyOrderElementsOf(others);
      List<String> sources = list(spec.get("externalClusters")).stream().map(e -> str(map(e).get("name"))).toList();
      assertThat(sources).as("%s: a source for every region", cluster)
          .containsExactlyInAnyOrderElementsOf(clusters.stream().map(Doc::name).toList());
      Map<String, Object> bootstrap = map(spec.get("bootstrap"));
      if (cluster.name().equals(primary)) {
        assertThat(str(map(bootstrap.get("initdb")).get("database"))).isEqualTo("genmesh_users");
      } else {
        assertThat(str(map(bootstrap.get("pg_basebackup")).get("source"))).isEqualTo(primary);
      }
    }
  }
}
