package dev.genmesh.images;

import dev.genmesh.config.ImagesConfig;
import dev.genmesh.images.impl.S3ImageStore;
import io.vertx.core.Vertx;

/** Opens image stores. */
public final class ImageStores {
  /** What an image is stored and served as. */
  public static final String PNG = "image/png";
  /** Images are never rewritten under a key (keys are attempt-scoped): cacheable for ever. */
  public static final String IMMUTABLE = "public, max-age=31536000, immutable";

  private ImageStores() {}

  /**
   * The bucket of one region on its S3-compatible store, through the AWS SDK v2 async client.
   * Reads the credentials file, if one is configured, now.
   */
  public static ImageStore s3(Vertx vertx, ImagesConfig.Bucket bucket) {
    return S3ImageStore.open(vertx, bucket);
  }
}
