package dev.genmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsAreSyncDegradeOnTheRing() {
    ReplicationConfig replication = ConfigLoader.defaults().replication();
    assertThat(replication.enabled()).isTrue();
    assertThat(replication.mode()).isEqualTo(ReplicationConfig.Mode.SYNC);
    assertThat(replication.onPeerLoss()).isEqualTo(ReplicationConfig.PeerLoss.DEGRADE);
    assertThat(replication.peerOf("us-west")).contains("us-east");
    assertThat(replication.wardOf("us-west")).contains("eu-west");
    assertThat(replication.wardOf("us-east")).contains("us-west");
    assertThat(replication.peerOf("mars")).isEmpty();
  }

  @Test
  void environmentPicksTheMode() {
    GenmeshConfig config = ConfigLoader.load(null, Map.of("GENMESH_REPLICATION__MODE", "async",
        "GENMESH_REPLICATION__ON_PEER_LOSS", "refuse"));
    assertThat(config.replication().mode()).isEqualTo(ReplicationConfig.Mode.ASYNC);
    assertThat(config.replication().onPeerLoss()).isEqualTo(ReplicationConfig.PeerLoss.REFUSE);
  }

  @Test
  void badValuesNameTheKey() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_REPLICATION__MODE", "eventually")))
        .hasMessageContaining("replication.mode").hasMessageContaining("sync");
    assertThatThrownBy(() -> ConfigLoader.load(write("replication:\n  peers: {us-west: us-west}\n"), Map.of()))
        .hasMessageContaining("replication.peers.us-west");
    assertThatThrownBy(() -> ConfigLoader.load(write("replication:\n  peers: {us-west: mars}\n"), Map.of()))
        .hasMessageContaining("replication.peers.us-west").hasMessageContaining("mars");
  }

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("genmesh.yaml");
    Files.writeString(file, yaml);
    return file;
  }
}
