package dev.genmesh.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One PostgreSQL server per region for {@code genmesh up}, and the step from the earlier shared server. */
class RegionalStoresTest {
  @TempDir Path data;

  @Test
  void eachRegionGetsALogicalServerStartedFromTheSharedOneOfAnEarlierVersion() throws Exception {
    // An earlier version: one server for every region's database, with a request in us-west's.
    try (EmbeddedStores shared = EmbeddedStores.start(data, List.of("genmesh_us_west", "genmesh_us_east"), false)) {
      sql(shared.postgresPort(), "genmesh_us_west", "CREATE TABLE requests (id text PRIMARY KEY)");
      sql(shared.postgresPort(), "genmesh_us_west", "INSERT INTO requests VALUES ('usw_1')");
    }
    Map<String, String> databases = new LinkedHashMap<>();
    databases.put("us-west", "genmesh_us_west");
    databases.put("us-east", "genmesh_us_east");
    try (EmbeddedStores regional = EmbeddedStores.startRegional(data, databases, List.of(), false)) {
      assertThat(regional.postgresPort("us-west")).isNotEqualTo(regional.postgresPort("us-east"));
      assertThat(query(regional.postgresPort("us-west"), "genmesh_us_west", "SELECT id FROM requests")).isEqualTo("usw_1");
      assertThat(query(regional.postgresPort("us-east"), "genmesh_us_east", "SHOW wal_level")).isEqualTo("logical");
    }
    assertThat(data.resolve("postgres")).doesNotExist();
    assertThat(data.resolve("postgres.before-replication").resolve("PG_VERSION")).exists();
    // Started again: the regions' own servers, nothing copied again.
    try (EmbeddedStores again = EmbeddedStores.startRegional(data, databases, List.of(), false)) {
      assertThat(query(again.postgresPort("us-west"), "genmesh_us_west", "SELECT count(*) FROM requests")).isEqualTo("1");
    }
    try (var dirs = Files.list(data)) {
      assertThat(dirs.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("postgres")))
          .containsExactlyInAnyOrder("postgres-us-west", "postgres-us-east", "postgres.before-replication");
    }
  }

  private static void sql(int port, String database, String statement) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", "");
        Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  private static String query(int port, String database, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", "");
        ResultSet rows = c.createStatement().executeQuery(sql)) {
      rows.next();
      return rows.getString(1);
    }
  }
}
