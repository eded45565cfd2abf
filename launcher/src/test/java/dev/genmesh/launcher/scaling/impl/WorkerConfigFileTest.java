package dev.genmesh.launcher.scaling.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.config.ConfigLoader;
import dev.genmesh.config.GenmeshConfig;
import dev.genmesh.config.RegionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config file of a worker process carries the source settings and the running mesh's ports. */
class WorkerConfigFileTest {
  @TempDir Path dir;

  @Test
  void theFileLoadsAsTheRunningRegionWithTheSourceSettings() throws Exception {
    Map<String, String> env = Map.of("GENMESH_WORKER__CLAIM_POLL_MS", "123", "GENMESH_REGIONS__US_WEST__CODE", "usx");
    GenmeshConfig loaded = ConfigLoader.load(null, env);
    RegionConfig region = loaded.region("us-west");
    RegionConfig running = region.withStores(region.postgres().withEndpoint("127.0.0.1", 40001),
            new RegionConfig.RedisConfig("redis://127.0.0.1:40002", region.redis().keyPrefix())
                .withSentinels(List.of("redis://127.0.0.1:40003"), "genmesh"))
        .withCluster(40100, List.of("127.0.0.1:40100-40104"))
        .withHttpPort(40200).withApiUrl("http://127.0.0.1:40200");
    GenmeshConfig mesh = loaded.withRegions(Map.of("us-west", running))
        .withImages(loaded.images().withCopies(new dev.genmesh.config.ImagesConfig.Copies("none", "c-{region}", 500, 3)));

    Path file = WorkerConfigFile.write(dir.resolve("workers"), ConfigLoader.tree(null, env), mesh, "us-west");

    GenmeshConfig child = ConfigLoader.load(file, Map.of());
    assertThat(child.region("us-west")).isEqualTo(running);
    assertThat(child.worker().claimPollMs()).isEqualTo(123);
    assertThat(child.worker().httpPort()).isZero();
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
  }
}
