package dev.genmesh.images;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * One region's bucket of finished images in an S3-compatible object store (docs/architecture.md,
 * "Images"). Every call is asynchronous and completes on the Vert.x context it was made from;
 * none blocks. Keys follow {@link ImageKeys}. Open one with {@link ImageStores#s3}.
 */
public interface ImageStore {
  /** The bucket this store reads and writes. */
  String bucket();

  /**
   * Writes an object whole (a reader never sees part of it).
   *
   * @param cacheControl stored with the object and sent back on every GET (also through a presigned
   *     URL); null: none
   */
  Future<ObjectInfo> put(String key, Buffer bytes, String contentType, String cacheControl);

  /** The whole object; fails with {@link NoSuchObjectException} when there is none. */
  Future<Buffer> get(String key);

  /**
   * Bytes {@code first} to {@code last} (inclusive, as in HTTP's {@code Range: bytes=first-last});
   * fails with {@link NoSuchObjectException} when there is no object.
   */
  Future<Buffer> get(String key, long first, long last);

  /** Size, ETag and time of the object; empty when there is none. */
  Future<Optional<ObjectInfo>> head(String key);

  /** Deletes the object; deleting one that is not there succeeds. */
  Future<Void> delete(String key);

  /** Deletes the objects (in as few calls as the store allows); missing ones are fine. */
  Future<Void> delete(Collection<String> keys);

  /** Every object whose key starts with {@code prefix}, in key order. */
  Future<List<ObjectInfo>> list(String prefix);

  /**
   * A URL anyone can GET the object with until {@code ttl} passes, without credentials (signed
   * here, no call to the store).
   */
  String presignGet(String key, Duration ttl);

  /** Releases the client's connections. */
  Future<Void> close();
}
