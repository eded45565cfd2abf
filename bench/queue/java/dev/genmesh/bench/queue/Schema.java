package dev.genmesh.bench.queue;

import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The region node's schema for the floor databases: the migration files on the classpath, in
 * the order of their INDEX, so the floor writes the same tables and indexes the node does.
 */
final class Schema {
  private static final String FOLDER = "dev/genmesh/region/db/migration/";

  private Schema() {}

  static void apply(Pool pool) throws Exception {
    for (String sql : migrations()) {
      Blocking.await(pool.query(sql).execute());
    }
  }

  private static List<String> migrations() throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : read(FOLDER + "INDEX").split("\n")) {
      String name = line.trim();
      if (!name.isEmpty() && !name.startsWith("#")) {
        out.add(read(FOLDER + name));
      }
    }
    return out;
  }

  private static String read(String resource) throws IOException {
    try (InputStream in = Schema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("missing classpath resource " + resource + " (is region-node compiled?)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
