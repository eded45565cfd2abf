package dev.genmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesConfigTest {
  @TempDir Path dir;

  @Test
  void eachRegionGetsItsOwnBucketAndOverridesApply() throws Exception {
    ImagesConfig defaults = ConfigLoader.defaults().images();
    assertThat(defaults).isEqualTo(ImagesConfig.defaults());
    assertThat(defaults.forRegion("us-west").bucket()).isEqualTo("genmesh-us-west");
    assertThat(defaults.edgeDelivery()).isEqualTo(ImagesConfig.EdgeDelivery.PROXY);

    Path file = dir.resolve("c.yaml");
    Files.writeString(file, "images:\n  endpoint: http://minio:9000\n  bucket: acme-{region}-images\n"
        + "  edge_delivery: redirect\n  regions:\n    eu-west: {endpoint: 'https://s3.eu-west-1.amazonaws.com',"
        + " signing_region: eu-west-1, bucket: acme-eu}\n");
    ImagesConfig images = ConfigLoader.load(file, Map.of()).images();
    assertThat(images.forRegion("us-west")).extracting(ImagesConfig.Bucket::endpoint, ImagesConfig.Bucket::bucket,
        ImagesConfig.Bucket::signingRegion).containsExactly("http://minio:9000", "acme-us-west-images", "us-east-1");
    assertThat(images.forRegion("eu-west")).extracting(ImagesConfig.Bucket::endpoint, ImagesConfig.Bucket::bucket,
        ImagesConfig.Bucket::signingRegion).containsExactly("https://s3.eu-west-1.amazonaws.com", "acme-eu", "eu-west-1");
    assertThat(images.edgeDelivery()).isEqualTo(ImagesConfig.EdgeDelivery.REDIRECT);
  }

  @Test
  void keysComeFromTheEnvironmentInPairsAndNeverShow() {
    ImagesConfig images = ConfigLoader.load(null, Map.of(ImagesConfig.ACCESS_KEY_ENV, "AKID",
        ImagesConfig.SECRET_KEY_ENV, "s3cr3t-value")).images();
    assertThat(images.keys()).isEqualTo(new ImagesConfig.Keys("AKID", "s3cr3t-value"));
    assertThat(images.toString()).doesNotContain("s3cr3t-value").contains("AKID");
    assertThat(ConfigLoader.defaults().images().keys()).isNull();

    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(ImagesConfig.ACCESS_KEY_ENV, "AKID")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(ImagesConfig.SECRET_KEY_ENV);
  }

  @Test
  void badSettingsNameTheirKey() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_IMAGES__BUCKET", "Images_{region}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("images.bucket").hasMessageContaining("Images_us-west");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_IMAGES__EDGE_DELIVERY", "cdn")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("images.edge_delivery");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_IMAGES__ENDPOINT", "minio:9000")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("images.endpoint");
    Path file = dir.resolve("c.yaml");
    Files.writeString(file, "images:\n  regions:\n    mars: {bucket: red}\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("images.regions.mars");
  }

  @Test
  void aRegionsOwnStoreCarriesItsBucketAndTheCopiesItHolds() {
    ImagesConfig shared = ImagesConfig.defaults().withStore("http://127.0.0.1:9000", "/keys.properties");
    ImagesConfig own = shared.withRegionEndpoint("us-east", "http://127.0.0.1:9100");
    assertThat(own.forRegion("us-east").endpoint()).isEqualTo("http://127.0.0.1:9100");
    assertThat(own.forRegion("us-east").bucket()).isEqualTo("genmesh-us-east");
    assertThat(own.copiesOf("us-east")).extracting(ImagesConfig.Bucket::endpoint, ImagesConfig.Bucket::bucket)
        .containsExactly("http://127.0.0.1:9100", "genmesh-us-east-copies");
    assertThat(own.forRegion("us-west").endpoint()).as("the others keep the shared one").isEqualTo("http://127.0.0.1:9000");
    assertThat(own.forRegion("us-east").credentialsFile()).isEqualTo("/keys.properties");
  }

  @Test
  void copiesGoAroundTheRingOfRegionsOrToTheRegionNamedOrNowhere() {
    GenmeshConfig config = ConfigLoader.defaults();
    List<String> regions = List.copyOf(config.regions().keySet());
    ImagesConfig images = config.images();
    assertThat(regions).containsExactly("us-west", "us-east", "eu-west");
    assertThat(images.copyHolder("us-west", regions)).contains("us-east");
    assertThat(images.copyHolder("eu-west", regions)).contains("us-west");
    assertThat(images.copiesHeldFor("us-west", regions)).containsExactly("eu-west");
    assertThat(images.copiesOf("us-east").bucket()).isEqualTo("genmesh-us-east-copies");
    assertThat(images.allBuckets(regions)).containsExactly("genmesh-us-west", "genmesh-us-east", "genmesh-eu-west",
        "genmesh-us-west-copies", "genmesh-us-east-copies", "genmesh-eu-west-copies");
    assertThat(images.copyHolder("us-west", List.of("us-west"))).as("one region: nowhere to copy").isEmpty();

    ImagesConfig toEast = ConfigLoader.load(null, Map.of("GENMESH_IMAGES__COPIES__TO", "us-east")).images();
    assertThat(toEast.copyHolder("eu-west", regions)).contains("us-east");
    assertThat(toEast.copyHolder("us-east", regions)).as("not to itself").isEmpty();
    ImagesConfig none = ConfigLoader.load(null, Map.of("GENMESH_IMAGES__COPIES__TO", "none")).images();
    assertThat(none.copyHolder("us-west", regions)).isEmpty();
    assertThat(none.allBuckets(regions)).containsExactly("genmesh-us-west", "genmesh-us-east", "genmesh-eu-west");

    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_IMAGES__COPIES__TO", "mars")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("images.copies.to").hasMessageContaining("mars");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GENMESH_IMAGES__COPIES__BUCKET", "genmesh-{region}")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("images.copies.bucket");
  }
}
