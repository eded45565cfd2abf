package dev.genmesh.launcher.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of {@code genmesh up --autoscale}: the worker processes it started notice that
 * their parent is gone and exit, instead of living on as orphans holding a CPU and a cluster port.
 */
class AutoscaledWorkersOrphanTest {
  private static final Pattern WORKER_STARTED = Pattern.compile("started worker usw-worker-as-1 \\(pool cpu, pid (\\d+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  @RegisterExtension final ChildProcesses children = new ChildProcesses();
  @TempDir Path dir;

  @Test
  void workerProcessesExitWhenTheMeshIsKilled() throws IOException {
    Path data = children.meshData(dir);
    Path config = Files.writeString(dir.resolve("genmesh.yaml"), """
        worker:
          heartbeat_interval_ms: 500
          claim_poll_ms: 200
        """);
    ChildProcess up = children.genmeshUp("up", data, config, "--autoscale");
    up.awaitLine(ChildProcesses.UP_EDGE_URL, START_TIMEOUT);
    ChildProcesses.awaitWorkerServing(data, "usw-worker-as-1", START_TIMEOUT);
    Path workerLog = data.resolve("workers").resolve("usw-worker-as-1.log");
    long workerPid = Long.parseLong(up.awaitLine(WORKER_STARTED, START_TIMEOUT).group(1));
    List<ProcessHandle> workers = up.descendants().stream().filter(p -> p.pid() == workerPid).toList();
    assertThat(workers).as("the worker process " + workerPid + " is the mesh's child").hasSize(1);
    workers.forEach(worker -> children.onCleanup(worker::destroyForcibly));

    up.kill();
    Sleeps.until("the orphaned workers exited", Duration.ofSeconds(30),
        () -> workers.stream().noneMatch(ProcessHandle::isAlive) ? true : null);
    assertThat(workerLog).content().contains("its parent process " + up.pid() + " is gone");
  }
}
