package dev.postroom.dispatch;

import dev.postroom.cli.demo.CaptureSmtpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The SMTP peer of the dispatcher's tests: the demo's strict {@link CaptureSmtpServer} (RFC 5321
 * order, CRLF only, line limits, SIZE, advertised parameters only, real AUTH), configured per test
 * with {@link CaptureSmtpServer#options()}, plus counts per recipient. Closing it fails the test
 * when the dispatcher broke an SMTP rule on the way.
 */
final class RecordingSmtpServer implements AutoCloseable {
  /** A message the server accepted: the recipients it said 250 to, and the data. */
  record Received(String from, List<String> recipients, String data) {}

  private final CaptureSmtpServer server;

  private RecordingSmtpServer(CaptureSmtpServer server) {
    this.server = server;
  }

  /**
   * On a free loopback port with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN and ENHANCEDSTATUSCODES.
   */
  static RecordingSmtpServer start() throws IOException {
    return start(options());
  }

  /** A server on a given loopback address and port (0: any), e.g. to play one MX host. */
  static RecordingSmtpServer start(String address, int port) throws IOException {
    return start(options().listen(InetAddress.getByName(address), port));
  }

  /** A server with these options (start from {@link #options()}). */
  static RecordingSmtpServer start(CaptureSmtpServer.Options options) throws IOException {
    return new RecordingSmtpServer(CaptureSmtpServer.start(options));
  }

  /** The default options of {@link #start()}, to add TLS, AUTH or change the extensions. */
  static CaptureSmtpServer.Options options() {
    return CaptureSmtpServer.options()
        .extensions("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES");
  }

  int port() {
    return server.port();
  }

  /** The reply line to RCPT TO for an address, or null for "250 2.1.5 Ok". */
  void rcptRule(Function<String, String> rule) {
    server.rcptRule((address, index) -> rule.apply(address));
  }

  /** Like {@link #rcptRule(Function)}, also given the RCPT's position in its transaction. */
  void rcptRule(BiFunction<String, Integer, String> rule) {
    server.rcptRule(rule);
  }

  void endOfDataDelay(Duration delay) {
    server.endOfDataDelay(delay);
  }

  /** Holds every final-dot reply until {@link #releaseEndOfData()}. */
  void holdEndOfData() {
    server.holdEndOfData();
  }

  void releaseEndOfData() {
    server.releaseEndOfData();
  }

  /** Messages whose final-dot reply is held now. */
  int heldNow() {
    return server.heldNow();
  }

  /** Answers new connections with 421 and closes them. */
  void refuse(boolean value) {
    server.refuse(value);
  }

  /** Answers new connections with this greeting and closes them (null: greets normally). */
  void refuseWith(String greeting) {
    server.refuseWith(greeting);
  }

  /** The most sessions that were open at once (connected and not yet closed). */
  int mostOpenAtOnce() {
    return server.mostOpenAtOnce();
  }

  /** When each connection was accepted, refused ones included. */
  List<Instant> connectedAt() {
    return server.connectedAt();
  }

  /** When each message was accepted (the 250 after DATA). */
  List<Instant> acceptedAt() {
    return server.acceptedAt();
  }

  /** Every accepted message with its envelope, TLS and AUTH user. */
  List<CaptureSmtpServer.Captured> captured() {
    return server.messages();
  }

  List<Received> received() {
    return server.messages().stream()
        .map(m -> new Received(m.reversePath(), m.forwardPaths(), m.content()))
        .toList();
  }

  int deliveriesTo(String address) {
    AtomicInteger n = deliveries().get(address.toLowerCase(Locale.ROOT));
    return n == null ? 0 : n.get();
  }

  /** Accepted deliveries per recipient address (lower-cased). */
  Map<String, AtomicInteger> deliveries() {
    Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    for (CaptureSmtpServer.Captured m : server.messages()) {
      for (String r : m.forwardPaths()) {
        counts
            .computeIfAbsent(r.toLowerCase(Locale.ROOT), k -> new AtomicInteger())
            .incrementAndGet();
      }
    }
    return counts;
  }

  int connections() {
    return server.connections();
  }

  /** The SMTP rules the dispatcher broke so far. */
  List<String> violations() {
    return server.violations();
  }

  @Override
  public void close() throws IOException {
    server.releaseEndOfData();
    server.close();
    if (!server.violations().isEmpty()) {
      throw new AssertionError("the dispatcher broke SMTP rules: " + server.violations());
    }
  }
}
