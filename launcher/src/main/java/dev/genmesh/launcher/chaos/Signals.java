package dev.genmesh.launcher.chaos;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;

/** POSIX signals to a process: SIGKILL through the JDK, SIGSTOP and SIGCONT through {@code kill(1)}. */
public final class Signals {
  private Signals() {}

  /** Sends {@code signal} (KILL, STOP or CONT) to {@code pid}; blocking. */
  public static JsonObject send(long pid, String signal) {
    if ("KILL".equals(signal)) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    } else {
      try {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        int code = kill.waitFor();
        if (code != 0) {
          throw new IllegalStateException("kill -" + signal + " " + pid + " exited with " + code);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return new JsonObject().put("pid", pid).put("signal", signal);
  }
}
