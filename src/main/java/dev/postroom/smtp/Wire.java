package dev.postroom.smtp;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The byte level of one session: commands out, replies in, each reply under its own deadline.
 *
 * <p>Reply lines end with CRLF only; a bare CR or LF in a reply is a protocol error (checklist C8),
 * which fails fast instead of waiting for a terminator that never comes. Every command and reply is
 * traced on logger {@code dev.postroom.smtp.wire} at TRACE; AUTH lines and message content are
 * replaced by a placeholder.
 */
final class Wire implements AutoCloseable {
  static final Logger TRACE = LoggerFactory.getLogger("dev.postroom.smtp.wire");
  private static final byte[] CRLF = {'\r', '\n'};

  private Socket socket;
  private InputStream in;
  private TimedOutputStream timedOut;
  private OutputStream out;
  private final byte[] buf = new byte[ReplyParser.MAX_LINE + 2];
  private int pos;
  private int lim;
  private final String peer;

  Wire(Socket socket, String peer) throws IOException {
    this.peer = peer;
    attach(socket);
  }

  private void attach(Socket s) throws IOException {
    this.socket = s;
    this.in = s.getInputStream();
    this.timedOut = new TimedOutputStream(s.getOutputStream(), s);
    this.out = new BufferedOutputStream(timedOut, 16 * 1024);
  }

  Socket socket() {
    return socket;
  }

  /**
   * Buffers one command line; {@code redacted} is what the trace shows instead (null: the line).
   */
  void command(String line, String redacted) throws IOException {
    if (TRACE.isTraceEnabled()) {
      TRACE.trace("{} C: {}", peer, redacted == null ? line : redacted);
    }
    out.write(line.getBytes(StandardCharsets.UTF_8));
    out.write(CRLF);
  }

  void flush(Duration timeout) throws IOException {
    timedOut.timeout(timeout);
    out.flush();
  }

  /** A stream for message data; every write to the socket must finish within {@code block}. */
  OutputStream data(Duration block) {
    timedOut.timeout(block);
    if (TRACE.isTraceEnabled()) {
      TRACE.trace("{} C: <message content>", peer);
    }
    return out;
  }

  /** Reads one whole reply; the deadline covers every line of it. */
  Reply read(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ReplyParser parser = new ReplyParser();
    while (true) {
      String line = readLine(deadline);
      if (TRACE.isTraceEnabled()) {
        TRACE.trace("{} S: {}", peer, line);
      }
      if (parser.accept(line)) {
        return parser.reply();
      }
    }
  }

  /** Octets received but not yet read as a reply. */
  int buffered() {
    return lim - pos;
  }

  /** Whether the server sent anything we did not ask for (a stale or desynchronised session). */
  boolean hasPendingInput() {
    try {
      if (buffered() > 0 || in.available() > 0) {
        return true;
      }
      return peerHungUp();
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * A read that waits one millisecond: notices a server that closed the connection without a word
   * (available() cannot see end of stream) and, under TLS, bytes still sitting in an undecrypted
   * record. A timed-out read leaves the socket usable, plaintext or TLS.
   */
  private boolean peerHungUp() throws IOException {
    pos = 0;
    lim = 0;
    socket.setSoTimeout(1);
    try {
      int n = in.read(buf, 0, buf.length);
      lim = Math.max(0, n);
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  /**
   * Replaces the plaintext streams by TLS ones over the same socket. Returns how many buffered
   * plaintext octets were thrown away (response injection, RFC 3207 §6).
   */
  int upgrade(SSLSocket tls) throws IOException {
    int discarded = buffered();
    pos = 0;
    lim = 0;
    attach(tls);
    return discarded;
  }

  private String readLine(long deadline) throws IOException {
    int scanFrom = pos;
    while (true) {
      for (int i = scanFrom; i < lim; i++) {
        byte b = buf[i];
        if (b == '\n') {
          if (i == pos || buf[i - 1] != '\r') {
            throw new ReplySyntaxException("reply line ends with a bare LF");
          }
          String line = decode(pos, i - 1);
          pos = i + 1;
          return line;
        }
        if (b == '\r' && i + 1 < lim && buf[i + 1] != '\n') {
          throw new ReplySyntaxException("reply line contains a bare CR");
        }
      }
      scanFrom = lim;
      if (lim - pos > ReplyParser.MAX_LINE) {
        throw new ReplySyntaxException(
            "reply line longer than " + ReplyParser.MAX_LINE + " octets");
      }
      if (pos > 0) {
        System.arraycopy(buf, pos, buf, 0, lim - pos);
        scanFrom -= pos;
        lim -= pos;
        pos = 0;
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw new SocketTimeoutException("reply not complete before its deadline");
      }
      socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, remaining / 1_000_000)));
      int n = in.read(buf, lim, buf.length - lim);
      if (n < 0) {
        throw new EOFException("connection closed by server");
      }
      lim += n;
    }
  }

  private String decode(int from, int to) {
    String s = new String(buf, from, to - from, StandardCharsets.UTF_8);
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        if (sb == null) {
          sb = new StringBuilder(s);
        }
        sb.setCharAt(i, '?');
      }
    }
    return sb == null ? s : sb.toString();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing is best effort; the session is over either way
    }
  }
}
