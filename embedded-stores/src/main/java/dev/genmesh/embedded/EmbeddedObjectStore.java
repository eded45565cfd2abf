package dev.genmesh.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.Properties;
import java.util.Set;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.filesystem.FilesystemApiMetadata;
import org.jclouds.filesystem.reference.FilesystemConstants;
import org.jclouds.logging.slf4j.config.SLF4JLoggingModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3-compatible object store in this JVM: S3Proxy over jclouds' filesystem backend, on a free
 * loopback port, its objects under {@code <dir>/buckets/<bucket>/...} so they survive a restart.
 * Requests must be signed (AWS V2 or V4, presigned URLs included) with the access key and secret
 * in {@code <dir>/credentials.properties}: generated on first start, readable by the owner only,
 * and kept, so that a client configured with that file works across restarts. Objects are written
 * without fsync (jclouds does not sync): they survive a crash of genmesh, not a power loss.
 */
public final class EmbeddedObjectStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedObjectStore.class);
  /** The file clients read the keys from ({@code access_key}, {@code secret_key}). */
  public static final String CREDENTIALS_FILE = "credentials.properties";
  static final String BUCKETS = "buckets";
  private static final int JETTY_THREADS = 32;

  /** An access key and its secret. {@code toString} does not show the secret. */
  public record Credentials(String accessKey, String secretKey) {
    @Override
    public String toString() {
      return "Credentials[accessKey=" + accessKey + ", secretKey=***]";
    }
  }

  private final Path dir;
  private final BlobStoreContext context;
  private final S3Proxy proxy;
  private final Credentials credentials;

  private EmbeddedObjectStore(Path dir, BlobStoreContext context, S3Proxy proxy, Credentials credentials) {
    this.dir = dir;
    this.context = context;
    this.proxy = proxy;
    this.credentials = credentials;
  }

  /** Starts the store with its data in {@code dir} and creates each of {@code buckets} that is missing. */
  public static EmbeddedObjectStore start(Path dir, Collection<String> buckets) {
    return start(dir, buckets, 0);
  }

  /**
   * The same on a given port (0: any free one): a store started again after a crash answers where
   * its clients expect it.
   */
  public static EmbeddedObjectStore start(Path dir, Collection<String> buckets, int port) {
    BlobStoreContext context = null;
    S3Proxy proxy = null;
    try {
      Path data = Files.createDirectories(dir.resolve(BUCKETS));
      Credentials credentials = credentials(dir.resolve(CREDENTIALS_FILE));
      Properties overrides = new Properties();
      overrides.setProperty(FilesystemConstants.PROPERTY_BASEDIR, data.toAbsolutePath().toString());
      // By its metadata, not its name: a lookup by name loads every provider S3Proxy registers (Azure's
      // needs jclouds' Azure provider, left out with the other cloud backends).
      context = ContextBuilder.newBuilder(new FilesystemApiMetadata())
          .credentials(credentials.accessKey(), credentials.secretKey())
          .overrides(overrides)
          .modules(Set.of(new SLF4JLoggingModule()))
          .build(BlobStoreContext.class);
      proxy = S3Proxy.builder()
          .blobStore(context.getBlobStore())
          .endpoint(URI.create("http://127.0.0.1:" + port))
          .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, credentials.accessKey(), credentials.secretKey())
          .jettyMaxThreads(JETTY_THREADS)
          // Newer SDKs send checksum headers S3Proxy does not know (x-amz-checksum-crc32 on
          // DeleteObjects): it would refuse the request with 501 instead of ignoring them.
          .ignoreUnknownHeaders(true)
          .build();
      proxy.start();
      awaitStarted(proxy);
      EmbeddedObjectStore store = new EmbeddedObjectStore(dir, context, proxy, credentials);
      buckets.forEach(store::createBucket);
      LOG.info("embedded object store (S3Proxy) on {}, buckets {}, data in {}", store.endpoint(), buckets, data);
      return store;
    } catch (Exception e) {
      stopQuietly(proxy);
      if (context != null) {
        context.close();
      }
      if (e instanceof IOException io) {
        throw new UncheckedIOException(io);
      }
      throw e instanceof RuntimeException re ? re
          : new IllegalStateException("the embedded object store did not start: " + e.getMessage(), e);
    }
  }

  private static void awaitStarted(S3Proxy proxy) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start within 30 s (state " + proxy.getState() + ")");
      }
      Thread.sleep(10);
    }
  }

  /** The keys in {@code file}; new random ones (written owner-only) when it does not exist yet. */
  static Credentials credentials(Path file) throws IOException {
    if (!Files.exists(file)) {
      SecureRandom random = new SecureRandom();
      Properties generated = new Properties();
      generated.setProperty("access_key", "GM" + token(random, 18, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
      generated.setProperty("secret_key",
          token(random, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
      Path temp = Files.createTempFile(file.getParent(), ".credentials", ".tmp");
      try {
        ownerOnly(temp);
        try (OutputStream out = Files.newOutputStream(temp)) {
          generated.store(out, "genmesh: the embedded object store's keys (generated; never commit)");
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException raced) {
        // Another start wrote it first: use theirs.
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    return read(file);
  }

  /**
   * {@code <dir>/credentials.properties}, with new random keys when it does not exist yet: the keys of stores started
   * elsewhere with a copy of it (each region's own store in {@code genmesh up --region-processes}), without a store here.
   */
  public static Path ensureCredentials(Path dir) {
    try {
      Path file = Files.createDirectories(dir).resolve(CREDENTIALS_FILE);
      credentials(file);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the object store's keys in " + dir, e);
    }
  }

  /** Reads {@code access_key} and {@code secret_key} from a properties file. */
  public static Credentials read(Path file) throws IOException {
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      properties.load(in);
    }
    String access = properties.getProperty("access_key", "").trim();
    String secret = properties.getProperty("secret_key", "").trim();
    if (access.isEmpty() || secret.isEmpty()) {
      throw new IllegalStateException(file + " must hold access_key and secret_key");
    }
    return new Credentials(access, secret);
  }

  private static String token(SecureRandom random, int length, String alphabet) {
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return out.toString();
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: its default permissions apply.
    }
  }

  /** Creates the bucket unless it exists (S3 naming: 3-63 lowercase letters, digits, dots and hyphens). */
  public void createBucket(String bucket) {
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException("not a valid bucket name: " + bucket);
    }
    BlobStore blobs = context.getBlobStore();
    if (!blobs.containerExists(bucket)) {
      blobs.createContainerInLocation(null, bucket);
    }
  }

  /** {@code http://127.0.0.1:<port>}: path-style requests only (no virtual hosts). */
  public String endpoint() {
    return "http://127.0.0.1:" + proxy.getPort();
  }

  public int port() {
    return proxy.getPort();
  }

  public Credentials credentials() {
    return credentials;
  }

  /** The file the keys are in, for clients configured by file. */
  public Path credentialsFile() {
    return dir.resolve(CREDENTIALS_FILE);
  }

  /** Where the objects of {@code bucket} are on disk. */
  public Path bucketDir(String bucket) {
    return dir.resolve(BUCKETS).resolve(bucket);
  }

  @Override
  public void close() {
    stopQuietly(proxy);
    context.close();
  }

  private static void stopQuietly(S3Proxy proxy) {
    if (proxy == null) {
      return;
    }
    try {
      proxy.stop();
    } catch (Exception e) {
      LOG.warn("the embedded object store did not stop cleanly: {}", e.toString());
    }
  }
}
