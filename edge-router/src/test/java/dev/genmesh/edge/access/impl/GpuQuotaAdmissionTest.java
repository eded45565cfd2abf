package dev.genmesh.edge.access.impl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The month's figures a submit and {@code /v1/usage} show: never more left than is really left. */
class GpuQuotaAdmissionTest {

  @Test
  void remainingSecondsRoundDownWhatIsLeft() {
    assertThat(new GpuQuotas.Admission(true, 0, 421, 36_000, null).remainingSeconds()).isEqualTo(35_999);
    assertThat(new GpuQuotas.Admission(true, 0, 0, 36_000, null).remainingSeconds()).isEqualTo(36_000);
    assertThat(new GpuQuotas.Admission(true, 0, 35_999_001, 36_000, null).remainingSeconds()).isZero();
    assertThat(new GpuQuotas.Admission(false, 0, 40_000_000, 36_000, null).remainingSeconds()).isZero();
  }
}
