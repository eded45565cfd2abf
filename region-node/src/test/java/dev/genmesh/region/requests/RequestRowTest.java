package dev.genmesh.region.requests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.genmesh.protocol.GenerationSpec;
import dev.genmesh.protocol.StoredImage;
import dev.genmesh.protocol.Tier;
import dev.genmesh.region.requests.impl.Migrations;
import dev.genmesh.testkit.StoresExtension;
import dev.genmesh.testkit.TestStores;
import dev.genmesh.testkit.Waits;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A request row read from a real PostgreSQL: with its jsonb columns as text ({@link RequestRow#COLUMNS}, what the log's
 * statements return) it is the same row as with them parsed by the client ({@code SELECT *}), and reads them only when
 * asked.
 */
@ExtendWith({VertxExtension.class, StoresExtension.class})
class RequestRowTest {
  private static TestStores stores;

  @BeforeAll
  static void start(TestStores shared) {
    stores = shared;
  }

  private static Pool freshPool(Vertx vertx) throws Exception {
    Pool pool = stores.pool(vertx, stores.createDatabase());
    Waits.await(new Migrations(vertx.createSharedWorkerExecutor("migrations"), pool).apply());
    return pool;
  }

  private static Row read(Pool pool, String columns, String id) throws Exception {
    return Waits.await(pool.preparedQuery("SELECT " + columns + " FROM requests WHERE id = $1").execute(Tuple.of(id)))
        .iterator().next();
  }

  @Test
  void aRowWithItsJsonAsTextIsTheRowWithItsJsonParsed(Vertx vertx) throws Exception {
    Pool pool = freshPool(vertx);
    RequestLog log = new RequestLog(pool);
    GenerationSpec spec = new GenerationSpec("a fox in the snow, \"quoted\", ünïcode ☃", "blurry", "genmesh-tiny",
        Tier.TURBO, 768, 512, 12, 42, 6.5, 2, "ink", 0.75, "ctl/1.png", 0.5, 3, true);
    RequestRow submitted = Waits.await(log.submit("usw_row1", spec, "key-1", "ann", new JsonObject())).row();
    List<StoredImage> images = List.of(new StoredImage("usw_row1/1/0.png", 10, "a".repeat(64)),
        new StoredImage("usw_row1/1/1.png", 20, "b".repeat(64)));
    Waits.await(pool.preparedQuery("UPDATE requests SET images = $2::jsonb WHERE id = $1")
        .execute(Tuple.of("usw_row1", StoredImage.toJson(images))));

    Row asText = read(pool, RequestRow.COLUMNS, "usw_row1");
    Row parsed = read(pool, "*", "usw_row1");
    assertThat(asText.getValue("spec")).isInstanceOf(String.class);
    assertThat(asText.getValue("images")).isInstanceOf(String.class);
    assertThat(parsed.getValue("spec")).isInstanceOf(JsonObject.class);

    RequestRow fromText = RequestRow.from(asText);
    RequestRow fromParsed = RequestRow.from(parsed);
    assertThat(fromText.generationSpec()).isEqualTo(fromParsed.generationSpec()).isEqualTo(spec)
        .isEqualTo(submitted.generationSpec());
    assertThat(fromText.spec()).isEqualTo(fromParsed.spec()).isEqualTo(spec.toJson());
    assertThat(fromText.images()).isEqualTo(fromParsed.images()).isEqualTo(images);
    assertThat(submitted.images()).isEmpty();
    assertThat(fromText).isEqualTo(fromParsed);
    assertThat(Waits.await(log.find("usw_row1"))).contains(fromParsed);
  }

  @Test
  void aMalformedSpecFailsWhenReadAsItDidBefore(Vertx vertx) throws Exception {
    Pool pool = freshPool(vertx);
    RequestLog log = new RequestLog(pool);
    GenerationSpec spec = new GenerationSpec("a fox", "", "genmesh-tiny", Tier.FAST, 512, 512, 4, 7, 7.5, 1);
    Waits.await(log.submit("usw_row2", spec, null, "ann", new JsonObject()));
    Waits.await(pool.query("UPDATE requests SET spec = spec - 'width' WHERE id = 'usw_row2'").execute());

    RequestRow fromText = RequestRow.from(read(pool, RequestRow.COLUMNS, "usw_row2"));
    RequestRow fromParsed = RequestRow.from(read(pool, "*", "usw_row2"));
    Class<? extends Throwable> before = thrown(() -> GenerationSpec.fromJson(spec.toJson().copy().put("width", null)));
    assertThatThrownBy(fromText::generationSpec).isInstanceOf(before);
    assertThatThrownBy(fromParsed::generationSpec).isInstanceOf(before);
    assertThatThrownBy(fromText::generationSpec).as("a failure is not remembered as a value").isInstanceOf(before);
    assertThat(fromText.spec()).isEqualTo(fromParsed.spec());
    assertThat(fromText.spec().containsKey("width")).isFalse();
  }

  @Test
  void aColumnIsReadOnceAndOnlyWhenAsked() {
    AtomicInteger reads = new AtomicInteger();
    List<String> derived = new ArrayList<>();
    JsonColumn<JsonObject> column = JsonColumn.of("{\"prompt\": \"a fox\"}", text -> {
      reads.incrementAndGet();
      return JsonColumn.object(text);
    });
    assertThat(reads).hasValue(0);

    assertThat(column.get().getString("prompt")).isEqualTo("a fox");
    assertThat(column.get()).isSameAs(column.get());
    String prompt = column.derived(json -> {
      derived.add("once");
      return json.getString("prompt");
    });
    assertThat(column.<String>derived(json -> "again")).isSameAs(prompt);
    assertThat(reads).hasValue(1);
    assertThat(derived).containsExactly("once");
    assertThat(JsonColumn.of(null, JsonColumn::object).get()).isNull();
  }

  private static Class<? extends Throwable> thrown(Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      return e.getClass();
    }
    throw new AssertionError("expected a failure");
  }
}
