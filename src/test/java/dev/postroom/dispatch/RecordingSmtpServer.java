package dev.postroom.dispatch;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A fast SMTP peer for dispatcher tests: it answers RCPT by a rule per address, records every
 * message it accepted (to count deliveries per recipient), and can stall or refuse on purpose.
 * Protocol edge cases are the SMTP client's tests' business; this one is about outcomes.
 */
final class RecordingSmtpServer implements AutoCloseable {
  /** A message the server accepted: the recipients it said 250 to, and the data. */
  record Received(String from, List<String> recipients, String data) {}

  private final ServerSocket socket;
  private final Queue<Received> received = new ConcurrentLinkedQueue<>();
  private final Map<String, AtomicInteger> perRecipient = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger openNow = new AtomicInteger();
  private final AtomicInteger mostOpen = new AtomicInteger();
  private final Queue<Instant> connectedAt = new ConcurrentLinkedQueue<>();
  private final Queue<Instant> acceptedAt = new ConcurrentLinkedQueue<>();
  private volatile String refusal = "421 4.3.2 sink refusing connections";
  private final List<Socket> open = new ArrayList<>();
  private volatile BiFunction<String, Integer, String> rcptRule = (address, index) -> null;
  private volatile Duration endOfDataDelay = Duration.ZERO;
  private volatile boolean refusing;
  private volatile boolean closed;

  private RecordingSmtpServer(InetAddress address, int port) throws IOException {
    socket = new ServerSocket(port, 200, address);
    Thread.ofPlatform().daemon().name("recording-smtp-accept").start(this::acceptLoop);
  }

  static RecordingSmtpServer start() throws IOException {
    return new RecordingSmtpServer(InetAddress.getLoopbackAddress(), 0);
  }

  /** A server on a given loopback address and port (0: any), e.g. to play one MX host. */
  static RecordingSmtpServer start(String address, int port) throws IOException {
    return new RecordingSmtpServer(InetAddress.getByName(address), port);
  }

  int port() {
    return socket.getLocalPort();
  }

  /** The reply line to RCPT TO for an address, or null for "250 2.1.5 Ok". */
  void rcptRule(Function<String, String> rule) {
    this.rcptRule = (address, index) -> rule.apply(address);
  }

  /** Like {@link #rcptRule(Function)}, also given the RCPT's position in its transaction. */
  void rcptRule(BiFunction<String, Integer, String> rule) {
    this.rcptRule = rule;
  }

  void endOfDataDelay(Duration delay) {
    this.endOfDataDelay = delay;
  }

  /** Answers new connections with 421 and closes them. */
  void refuse(boolean value) {
    this.refusing = value;
  }

  /** Answers new connections with this greeting and closes them (null: greets normally). */
  void refuseWith(String greeting) {
    if (greeting != null) {
      this.refusal = greeting;
    }
    this.refusing = greeting != null;
  }

  /** The most sessions that were open at once (connected and not yet closed). */
  int mostOpenAtOnce() {
    return mostOpen.get();
  }

  /** When each connection was accepted, refused ones included. */
  List<Instant> connectedAt() {
    return List.copyOf(connectedAt);
  }

  /** When each message was accepted (the 250 after DATA). */
  List<Instant> acceptedAt() {
    return List.copyOf(acceptedAt);
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  int deliveriesTo(String address) {
    AtomicInteger n = perRecipient.get(address.toLowerCase(Locale.ROOT));
    return n == null ? 0 : n.get();
  }

  Map<String, AtomicInteger> deliveries() {
    return perRecipient;
  }

  int connections() {
    return connections.get();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket s = socket.accept();
        connections.incrementAndGet();
        connectedAt.add(Instant.now());
        synchronized (open) {
          open.add(s);
        }
        Thread.ofVirtual().start(() -> serve(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s;
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream()) {
      mostOpen.accumulateAndGet(openNow.incrementAndGet(), Math::max);
      if (refusing) {
        write(out, refusal);
        return;
      }
      write(out, "220 sink.test ESMTP recording");
      String from = null;
      List<String> accepted = new ArrayList<>();
      int rcpts = 0;
      String line;
      while ((line = readLine(in)) != null) {
        String upper = line.toUpperCase(Locale.ROOT);
        if (upper.startsWith("EHLO")) {
          write(
              out,
              "250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                  + "250 SIZE 52428800");
        } else if (upper.startsWith("HELO")) {
          write(out, "250 sink.test");
        } else if (upper.startsWith("MAIL FROM:")) {
          from = address(line.substring(10));
          accepted.clear();
          rcpts = 0;
          write(out, "250 2.1.0 Ok");
        } else if (upper.startsWith("RCPT TO:")) {
          String rcpt = address(line.substring(8));
          String reply = rcptRule.apply(rcpt, rcpts++);
          if (reply == null || reply.startsWith("2")) {
            accepted.add(rcpt);
          }
          write(out, reply == null ? "250 2.1.5 Ok" : reply);
        } else if (upper.equals("DATA")) {
          if (accepted.isEmpty()) {
            write(out, "554 5.5.1 no valid recipients");
            continue;
          }
          write(out, "354 End data with <CR><LF>.<CR><LF>");
          String data = readData(in);
          if (!endOfDataDelay.isZero()) {
            Thread.sleep(endOfDataDelay.toMillis());
          }
          received.add(new Received(from, List.copyOf(accepted), data));
          acceptedAt.add(Instant.now());
          for (String r : accepted) {
            perRecipient
                .computeIfAbsent(r.toLowerCase(Locale.ROOT), k -> new AtomicInteger())
                .incrementAndGet();
          }
          accepted.clear();
          write(out, "250 2.0.0 Ok: queued as " + received.size());
        } else if (upper.equals("RSET") || upper.equals("NOOP")) {
          accepted.clear();
          write(out, "250 2.0.0 Ok");
        } else if (upper.equals("QUIT")) {
          write(out, "221 2.0.0 Bye");
          return;
        } else {
          write(out, "502 5.5.2 command not implemented");
        }
      }
    } catch (IOException | InterruptedException e) {
      // the client went away, or the test is over
    } finally {
      openNow.decrementAndGet();
      synchronized (open) {
        open.remove(s);
      }
    }
  }

  private static String address(String arg) {
    String a = arg.trim();
    int lt = a.indexOf('<');
    int gt = a.indexOf('>');
    return lt >= 0 && gt > lt ? a.substring(lt + 1, gt) : a.split(" ")[0];
  }

  private static String readData(InputStream in) throws IOException {
    StringBuilder data = new StringBuilder();
    String line;
    while ((line = readLine(in)) != null && !line.equals(".")) {
      data.append(line.startsWith(".") ? line.substring(1) : line).append("\r\n");
    }
    return data.toString();
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(128);
    int prev = -1;
    int c;
    while ((c = in.read()) != -1) {
      if (prev == '\r' && c == '\n') {
        byte[] b = buf.toByteArray();
        return new String(b, 0, b.length - 1, StandardCharsets.UTF_8);
      }
      buf.write(c);
      prev = c;
    }
    return null;
  }

  private static void write(OutputStream out, String reply) throws IOException {
    out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    closed = true;
    socket.close();
    synchronized (open) {
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
