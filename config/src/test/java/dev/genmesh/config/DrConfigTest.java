package dev.genmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DrConfigTest {
  private static final List<String> REGIONS = List.of("us-west", "us-east", "eu-west");

  @Test
  void theDefaultsBackUpDailyKeepThirtyAndCopyAlongTheRing() {
    DrConfig dr = ConfigLoader.defaults().dr();
    assertThat(dr.backupIntervalMs()).isEqualTo(86_400_000);
    assertThat(dr.backupRetention()).isEqualTo(30);
    assertThat(dr.redisRetentionMs()).isEqualTo(604_800_000);
    assertThat(dr.walSwitchMs() + dr.copyIntervalMs()).as("a region's loss loses at most the RPO target")
        .isLessThanOrEqualTo(dr.rpoTargetMs());
    assertThat(dr.copyHolder("us-west", REGIONS)).contains("us-east");
    assertThat(dr.copyHolder("eu-west", REGIONS)).contains("us-west");
    assertThat(dr.copyHolder("us-west", List.of("us-west"))).isEmpty();
    assertThat(dr.copyBucketOf("us-west")).isEqualTo("genmesh-us-west-backups");
  }

  @Test
  void copyToNamesAKnownRegionOrNoneAndTheBucketMustBeOneS3Takes() {
    assertThat(ConfigLoader.load(null, Map.of("GENMESH_DR__COPY_TO", "none")).dr().copyHolder("us-west", REGIONS))
        .isEqualTo(Optional.empty());
    assertThat(ConfigLoader.load(null, Map.of("GENMESH_DR__COPY_TO", "eu-west")).dr().copyHolder("us-west", REGIONS))
        .contains("eu-west");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_DR__COPY_TO", "mars")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dr.copy_to").hasMessageContaining("mars");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_DR__COPY_BUCKET", "Backups_{region}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dr.copy_bucket");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_DR__WAL_SWITCH_MS", "10")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dr.wal_switch_ms");
  }
}
