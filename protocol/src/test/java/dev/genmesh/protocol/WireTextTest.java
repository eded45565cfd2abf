package dev.genmesh.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashSet;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The hand-written fast paths of the wire texts write exactly what the JDK's slow ones wrote. */
class WireTextTest {
  private final Random random = new Random(42);

  @Test
  void wireNamesAreTheLowerCaseNamesAndParseBack() {
    for (Tier tier : Tier.values()) {
      assertThat(tier.wireName()).isEqualTo(tier.name().toLowerCase(Locale.ROOT));
      assertThat(Tier.parse(tier.wireName())).contains(tier);
      assertThat(Tier.parse(" " + tier.name() + " ")).contains(tier);
    }
    assertThat(Tier.parse("gold")).isEmpty();
    for (EventType type : EventType.values()) {
      assertThat(type.wireName()).isEqualTo(type.name().toLowerCase(Locale.ROOT));
      assertThat(EventType.fromWire(type.wireName())).isEqualTo(type);
      assertThat(EventType.fromWire(" " + type.name() + " ")).isEqualTo(type);
    }
  }

  @Test
  void decimalsAreWrittenAsDoubleToStringWritesThem() {
    double[] edges = {0.0, -0.0, 0.1, 0.5, 1.0, 7.5, 7.25, 0.30000000000000004, Math.nextUp(7.5), Math.nextDown(7.5),
        -7.5, 1e-4, 99_999.9, 100_000.0, 1e7, 1e300, Double.NaN, Double.POSITIVE_INFINITY, Double.MIN_VALUE};
    for (double value : edges) {
      assertThat(GenerationSpec.decimal(value)).as("%s", value).isEqualTo(Double.toString(value));
    }
    for (int i = 0; i < 100_000; i++) {
      double tenth = random.nextInt(2_000_000) / 10.0;
      double any = random.nextDouble() * 30;
      assertThat(GenerationSpec.decimal(tenth)).isEqualTo(Double.toString(tenth));
      assertThat(GenerationSpec.decimal(any)).isEqualTo(Double.toString(any));
    }
  }

  @Test
  void theBatchKeyKeepsItsSpelling() {
    WorkerMessages.BatchHint hint = new WorkerMessages.BatchHint("sdxl", 1024, 768, 30, 7.5, "ink", 0.8, true, 1.0, 4);
    assertThat(hint.key()).isEqualTo("sdxl|1024x768|30|7.5|ink|0.8|true|1.0");
    WorkerMessages.BatchHint odd = new WorkerMessages.BatchHint("m", 8, 8, 1, 0.1 + 0.2, null, 0, false, 0, 1);
    assertThat(odd.key()).isEqualTo("m|8x8|1|0.30000000000000004||0.0|false|0.0");
  }

  @Test
  void eventTimesAreWrittenAsInstantToStringWritesThem() {
    long[] nanos = {0, 1, 999, 1_000, 123_000, 1_000_000, 120_000_000, 999_999_999, 5_000};
    long[] seconds = {0, 1, 59, 86_399, 951_782_400, 1_796_688_000, 253_402_300_799L, 253_402_300_800L, -1, -62_167_219_200L};
    for (long second : seconds) {
      for (long nano : nanos) {
        Instant time = Instant.ofEpochSecond(second, nano);
        assertThat(ProgressEvent.text(time)).isEqualTo(time.toString());
      }
    }
    for (int i = 0; i < 100_000; i++) {
      Instant time = Instant.ofEpochSecond(random.nextLong() % 300_000_000_000L, random.nextInt(3) == 0
          ? random.nextInt(1_000_000_000) : random.nextInt(1_000) * (random.nextBoolean() ? 1_000 : 1_000_000));
      assertThat(ProgressEvent.text(time)).isEqualTo(time.toString());
    }
  }

  @Test
  void requestIdsKeepTheirFormatAndDoNotRepeat() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 20_000; i++) {
      String id = RequestIds.next("usw", 1_796_688_000_123L);
      assertThat(RequestIds.isWellFormed(id)).as(id).isTrue();
      assertThat(id).startsWith("usw_").hasSize(30);
      assertThat(seen.add(id)).as("repeated " + id).isTrue();
    }
    // Every one of the 32 characters shows up in every random position.
    for (int position = 14; position < 30; position++) {
      Set<Character> chars = new HashSet<>();
      for (String id : seen) {
        chars.add(id.charAt(position));
      }
      assertThat(chars).as("position %d", position).hasSize(32);
    }
  }

  @Test
  void hexChecksMatchTheirOldPatterns() {
    String hash = RequestHash.of("ann", new io.vertx.core.json.JsonObject());
    assertThat(RequestHash.isWellFormed(hash)).isTrue();
    for (String bad : new String[] {"", hash.substring(1), hash + "0", hash.toUpperCase(Locale.ROOT),
        hash.substring(1) + "g", hash.substring(1) + "/", hash.substring(1) + ":", hash.substring(1) + "`"}) {
      assertThat(RequestHash.isWellFormed(bad)).as(bad).isEqualTo(bad.matches("[0-9a-f]{64}"));
      assertThat(new StoredImage("k", 1, bad).isWellFormed()).isFalse();
    }
    assertThat(new StoredImage("k", 1, hash).isWellFormed()).isTrue();
    assertThat(new StoredImage(" ", 1, hash).isWellFormed()).isFalse();
  }
}
