package dev.genmesh.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for what a well-behaved client library will not send: any bytes
 * in headers, half a body, a request that never ends. Blocking; for the test thread only.
 */
final class RawHttp implements AutoCloseable {
  /** One response: status, headers (lowercase names), body. */
  record Response(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawHttp(int port, int readTimeoutMs) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(readTimeoutMs);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  RawHttp send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  RawHttp send(String latin1) throws IOException {
    return send(latin1.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** A whole request: the head as given (CRLF line ends added), Content-Length from the body. */
  static byte[] request(String method, String path, Map<String, String> headers, byte[] body) {
    StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    byte[] start = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[start.length + (body == null ? 0 : body.length)];
    System.arraycopy(start, 0, all, 0, start.length);
    if (body != null) {
      System.arraycopy(body, 0, all, start.length, body.length);
    }
    return all;
  }

  /** Reads one response (Content-Length or until the server closes); fails on a read timeout. */
  Response read() throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("the server closed the connection without answering");
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = line(); line != null && !line.isEmpty(); line = line()) {
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    String length = headers.get("content-length");
    if (length != null) {
      int remaining = Integer.parseInt(length);
      byte[] buffer = new byte[8192];
      while (remaining > 0) {
        int n = in.read(buffer, 0, Math.min(buffer.length, remaining));
        if (n < 0) {
          break;
        }
        body.write(buffer, 0, n);
        remaining -= n;
      }
    } else if (!"chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      in.transferTo(body);
    } else {
      for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
        body.write(in.readNBytes(size));
        line();
      }
      line();
    }
    return new Response(status, headers, body.toByteArray());
  }

  /** True once the server has closed the connection (end of stream) within the read timeout. */
  boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0; b = in.read()) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
