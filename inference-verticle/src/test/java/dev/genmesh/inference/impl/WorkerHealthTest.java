package dev.genmesh.inference.impl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkerHealthTest {

  @Test
  void anOomHalvesTheBatchLimitBelowWhatFailedDownToOne() {
    WorkerHealth health = new WorkerHealth(8, 3);
    health.onOom(8);
    assertThat(health.maxBatchImages()).isEqualTo(4);
    health.onOom(2);
    assertThat(health.maxBatchImages()).isEqualTo(1);
    health.onOom(1);
    assertThat(health.maxBatchImages()).isEqualTo(1);
  }

  @Test
  void deviceErrorsInARowMakeTheWorkerNotLiveAndASuccessResetsTheCount() {
    WorkerHealth health = new WorkerHealth(4, 3);
    assertThat(health.onGpuError()).isTrue();
    assertThat(health.onGpuError()).isTrue();
    health.onSuccess();
    assertThat(health.onGpuError()).isTrue();
    assertThat(health.onGpuError()).isTrue();
    assertThat(health.onGpuError()).as("the third in a row").isFalse();
    assertThat(health.live()).isFalse();
    assertThat(health.notLiveReason()).isEqualTo("3 device errors in a row");
    health.giveUp("something later");
    assertThat(health.notLiveReason()).as("the first reason stays").isEqualTo("3 device errors in a row");
  }
}
