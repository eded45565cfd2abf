package dev.genmesh.region.requests;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.function.Function;

/**
 * A jsonb column of a request row, read into {@code T} once, when first asked: most status
 * changes' callers never read the spec or the images, so their rows leave them unparsed. The
 * column comes as PostgreSQL returned it: as text ({@link RequestRow#COLUMNS}, {@code ::text}) or
 * already parsed ({@code SELECT *}: a {@link JsonObject} or {@link JsonArray}); null stays null.
 * Equal when the values are. Safe to share: a race at worst reads the column twice.
 */
public final class JsonColumn<T> {
  private final Object column;
  private final Function<Object, T> reader;
  private volatile T value;
  /** The one value derived from {@link #get} (the spec's {@code GenerationSpec}), once asked. */
  private volatile Object derived;

  private JsonColumn(Object column, Function<Object, T> reader) {
    this.column = column;
    this.reader = reader;
  }

  /** @param column the column's value: text, parsed JSON or null */
  public static <T> JsonColumn<T> of(Object column, Function<Object, T> reader) {
    return new JsonColumn<>(column, reader);
  }

  /** The column read as an object: a JsonObject as it is, text parsed (a malformed text throws, each time asked). */
  public static JsonObject object(Object column) {
    return parsed(column, JsonObject.class, JsonObject::new);
  }

  /** The column read as an array: a JsonArray as it is, text parsed; null stays null. */
  public static JsonArray array(Object column) {
    return parsed(column, JsonArray.class, JsonArray::new);
  }

  private static <J> J parsed(Object column, Class<J> type, Function<String, J> parse) {
    if (column == null || type.isInstance(column)) {
      return type.cast(column);
    }
    if (column instanceof String text) {
      return parse.apply(text);
    }
    throw new ClassCastException("not a " + type.getSimpleName() + " column: " + column.getClass().getName());
  }

  public T get() {
    T read = value;
    if (read == null && column != null) {
      read = reader.apply(column);
      value = read;
    }
    return read;
  }

  /** {@code derive} of {@link #get}, computed once: pass the same function every time. */
  @SuppressWarnings("unchecked")
  public <U> U derived(Function<? super T, U> derive) {
    Object known = derived;
    if (known == null) {
      known = derive.apply(get());
      derived = known;
    }
    return (U) known;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof JsonColumn<?> that && Objects.equals(get(), that.get());
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(get());
  }

  @Override
  public String toString() {
    return String.valueOf(get());
  }
}
