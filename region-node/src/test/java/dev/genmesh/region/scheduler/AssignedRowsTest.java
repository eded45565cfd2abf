package dev.genmesh.region.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.genmesh.protocol.RequestStatus;
import dev.genmesh.region.requests.RequestRow;
import org.junit.jupiter.api.Test;

class AssignedRowsTest {
  @Test
  void givesTheRowOfThatAttemptOnceAndForgetsTheOldest() {
    AssignedRows rows = new AssignedRows(2);
    rows.put(row("a", 1));
    rows.put(row("b", 1));
    rows.put(row("a", 2)); // a new attempt of a: the newest now
    rows.put(row("c", 1)); // over the bound: b, the oldest, goes

    assertThat(rows.size()).isEqualTo(2);
    assertThat(rows.take("b", 1)).isEmpty();
    assertThat(rows.take("a", 1)).as("another attempt's result").isEmpty();
    assertThat(rows.take("a", 2)).as("taken out by the first take, whatever its attempt").isEmpty();
    assertThat(rows.take("c", 1)).get().extracting(RequestRow::attempt).isEqualTo(1);
    assertThat(rows.take("c", 1)).as("once").isEmpty();
    assertThat(rows.size()).isZero();
  }

  private static RequestRow row(String id, int attempt) {
    return new RequestRow(id, null, null, null, null, RequestStatus.ASSIGNED, 0, attempt, 0, "w", null, null, null, 0,
        null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
  }
}
