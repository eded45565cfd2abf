package dev.genmesh.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The lock {@link EmbeddedStores} holds on its data directory ({@code stores.lock}) while its stores run. */
final class DataDirLock {
  private static final Logger LOG = LoggerFactory.getLogger(DataDirLock.class);
  static final String LOCK_FILE = "stores.lock";

  private DataDirLock() {}

  /**
   * Held while the stores run. The OS drops it when the JVM dies, however it dies, so a store
   * process found running while we hold it is a leftover, not a live mesh's.
   */
  static FileLock lock(Path dataDir) throws IOException {
    FileChannel channel = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.tryLock();
      if (lock != null) {
        return lock;
      }
    } catch (OverlappingFileLockException e) {
      // this JVM holds it already
    }
    channel.close();
    throw new IllegalStateException("data directory " + dataDir + " is in use by another running genmesh;"
        + " stop that one or choose another --data-dir");
  }

  static void release(FileLock lock) {
    if (lock == null) {
      return;
    }
    try {
      lock.channel().close(); // releases the lock
    } catch (IOException e) {
      LOG.warn("cannot release {}: {}", LOCK_FILE, e.toString());
    }
  }
}
