package dev.genmesh.launcher.fault;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** One Redis command over a plain socket, for tests that only need to set and read a key. */
final class RedisCommand {
  private RedisCommand() {}

  /**
   * Sends {@code args} as one command and returns the reply: a status or bulk string, null for a
   * nil reply, the first element of an array.
   */
  static String run(int port, String... args) {
    StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
    for (String arg : args) {
      command.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
    }
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(command.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String first = in.readLine();
      if (first == null || first.startsWith("-")) {
        throw new IllegalStateException("redis answered " + first + " to " + String.join(" ", args));
      }
      if (first.startsWith("$")) {
        return first.equals("$-1") ? null : in.readLine();
      }
      if (first.startsWith("*") && !first.equals("*0") && !first.equals("*-1")) {
        String element = in.readLine(); // an array: its first element (ROLE answers master / slave first)
        return element.startsWith("$") ? in.readLine() : element.substring(1);
      }
      return first.substring(1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
