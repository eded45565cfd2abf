package dev.genmesh.launcher.fault;

import dev.genmesh.embedded.EmbeddedStores;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

/**
 * The child JVM of {@link StaleStoresTest}: starts the embedded stores of a data directory,
 * writes a mark into each, says {@code READY}, and waits to be killed.
 */
public final class StoresChild {
  static final String DATABASE = "genmesh_fault";
  static final String MARK = "written before the crash";

  private StoresChild() {}

  public static void main(String[] args) throws Exception {
    EmbeddedStores stores = EmbeddedStores.start(Path.of(args[0]), List.of(DATABASE), true);
    String url = "jdbc:postgresql://127.0.0.1:" + stores.postgresPort() + "/" + DATABASE;
    try (Connection connection = DriverManager.getConnection(url, "postgres", "");
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE IF NOT EXISTS marks (text text)");
      statement.execute("INSERT INTO marks VALUES ('" + MARK + "')");
    }
    RedisCommand.run(stores.redisPort(), "SET", "mark", MARK);
    System.out.println("READY " + stores.postgresPort() + " " + stores.redisPort());
    Thread.sleep(600_000); // the test kills this JVM long before; if it does not, leave nothing behind
    stores.close();
  }
}
