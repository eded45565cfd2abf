package dev.genmesh.launcher.regions;

import dev.genmesh.embedded.EmbeddedStores;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports a region keeps for its life, across kills. Picked free below Linux's ephemeral range
 * (32768-60999): the region's process binds it only seconds later, and a port of the ephemeral
 * range can meanwhile be handed to any outgoing connection of the machine.
 */
final class StablePorts {
  private static final int LOW = 15_000;
  private static final int HIGH = 32_000;

  private StablePorts() {}

  static int pick() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int candidate = random.nextInt(LOW, HIGH);
      try (ServerSocket probe = new ServerSocket()) {
        probe.setReuseAddress(false);
        probe.bind(new InetSocketAddress("127.0.0.1", candidate));
        return candidate;
      } catch (IOException inUse) {
        // another one
      }
    }
    return EmbeddedStores.freePort();
  }
}
