package dev.postroom.cli.demo;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small, strict SMTP server (RFC 5321) that accepts mail and keeps it in memory instead of
 * relaying it: the demo's mail catcher, and the peer of the dispatcher's tests. It offers the
 * extensions it is configured with (by default PIPELINING, SIZE, 8BITMIME, SMTPUTF8 and
 * ENHANCEDSTATUSCODES; also DSN, STARTTLS, AUTH PLAIN/LOGIN, or TLS from the first byte) and
 * refuses what a broken client would do: a command line not ending in CRLF or over 512 octets,
 * commands out of order (503), parameters of an extension it did not offer (555), a non-ASCII
 * address without SMTPUTF8 (553), pipelining it did not offer, AUTH with wrong credentials (535) or
 * before TLS when STARTTLS is offered (538), MAIL before AUTH when AUTH is configured (530), more
 * than 100 recipients (452), a message over SIZE (552), and message data with a bare CR or LF, a
 * line over 1,000 octets or 8-bit octets without BODY=8BITMIME/SMTPUTF8 (554). Every such refusal
 * is listed in {@link #violations()}. Dot-stuffing is removed; RCPT for chosen addresses gets a
 * chosen reply, so a demo can show rejected and deferred recipients.
 */
public final class CaptureSmtpServer implements AutoCloseable {
  public static final long MAX_MESSAGE_BYTES = 50L * 1024 * 1024;
  static final int MAX_RECIPIENTS = 100;
  static final int IDLE_TIMEOUT_MILLIS = 5 * 60 * 1000;
  private static final Logger log = LoggerFactory.getLogger(CaptureSmtpServer.class);

  /**
   * One message as received: the envelope, its parameters (MAIL's, and each recipient's, in the
   * order of {@code forwardPaths}), whether TLS was on, the AUTH user (or null) and the content
   * with dot-stuffing removed.
   */
  public record Captured(
      long id,
      String reversePath,
      List<String> forwardPaths,
      byte[] data,
      List<String> mailParameters,
      List<String> rcptParameters,
      boolean tls,
      String user) {
    public Captured {
      forwardPaths = List.copyOf(forwardPaths);
      mailParameters = List.copyOf(mailParameters);
      rcptParameters = List.copyOf(rcptParameters);
    }

    public String content() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  /** What the server offers and where it listens; {@link #options()} gives the demo's defaults. */
  public static final class Options {
    private InetAddress address = InetAddress.getLoopbackAddress();
    private int port;
    private final Set<String> extensions =
        new LinkedHashSet<>(
            List.of("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"));
    private SSLContext startTls;
    private SSLContext implicitTls;
    private String user;
    private String secret;
    private long maxMessageBytes = MAX_MESSAGE_BYTES;
    private final Map<String, String> rcptReplies = new ConcurrentHashMap<>();

    private Options() {}

    /** Listens on this address and port (0: any free port). */
    public Options listen(InetAddress address, int port) {
      this.address = address;
      this.port = port;
      return this;
    }

    /**
     * The EHLO keywords among PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN and ENHANCEDSTATUSCODES
     * (STARTTLS and AUTH follow from {@link #startTls} and {@link #credentials}).
     */
    public Options extensions(String... keywords) {
      extensions.clear();
      for (String k : keywords) {
        String keyword = k.toUpperCase(Locale.ROOT);
        if (!List.of("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES")
            .contains(keyword)) {
          throw new IllegalArgumentException("unknown extension " + k);
        }
        extensions.add(keyword);
      }
      return this;
    }

    /** Offers STARTTLS with this server context; AUTH is then refused before TLS. */
    public Options startTls(SSLContext context) {
      this.startTls = context;
      return this;
    }

    /** Speaks TLS from the first byte with this server context (SMTPS, port 465 style). */
    public Options implicitTls(SSLContext context) {
      this.implicitTls = context;
      return this;
    }

    /** Offers AUTH PLAIN LOGIN for this one account, and refuses MAIL before it. */
    public Options credentials(String user, String secret) {
      this.user = user;
      this.secret = secret;
      return this;
    }

    /** The advertised SIZE and the largest message taken. */
    public Options maxMessageBytes(long bytes) {
      this.maxMessageBytes = bytes;
      return this;
    }

    /**
     * Reply lines by recipient address (compared case-insensitively), e.g. {@code "550 5.1.1 User
     * unknown"}; every other recipient is accepted.
     */
    public Options rcptReplies(Map<String, String> replies) {
      replies.forEach((a, r) -> rcptReplies.put(a.toLowerCase(Locale.ROOT), r));
      return this;
    }

    boolean offers(String keyword) {
      return extensions.contains(keyword);
    }

    SSLContext startTlsContext() {
      return startTls;
    }

    SSLContext implicitTlsContext() {
      return implicitTls;
    }

    String user() {
      return user;
    }

    String secret() {
      return secret;
    }

    long maxMessageBytes() {
      return maxMessageBytes;
    }
  }

  private final ServerSocket listener;
  private final Options options;
  private final String hostName;
  private final List<Captured> messages = new CopyOnWriteArrayList<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final Set<Socket> sessions = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicInteger connections = new AtomicInteger();
  private final Thread acceptor;
  private volatile BiFunction<String, Integer, String> rcptRule;
  private volatile Duration endOfDataDelay = Duration.ZERO;
  private volatile String refusal;
  private volatile java.util.concurrent.CountDownLatch hold;
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicInteger openNow = new AtomicInteger();
  private final AtomicInteger mostOpen = new AtomicInteger();
  private final List<Instant> connectedAt = new CopyOnWriteArrayList<>();
  private final List<Instant> acceptedAt = new CopyOnWriteArrayList<>();

  private CaptureSmtpServer(ServerSocket listener, Options options) {
    this.listener = listener;
    this.options = options;
    this.hostName = "capture.postroom.invalid";
    this.rcptRule = (address, index) -> options.rcptReplies.get(address.toLowerCase(Locale.ROOT));
    this.acceptor =
        Thread.ofPlatform().name("capture-smtp-accept").daemon().unstarted(this::acceptLoop);
  }

  /** The demo's defaults: loopback, a free port, no TLS, no AUTH, every recipient accepted. */
  public static Options options() {
    return new Options();
  }

  /**
   * Listens on a free loopback port with the default options.
   *
   * @param rcptReplies reply lines by recipient address (compared case-insensitively), e.g. {@code
   *     "550 5.1.1 User unknown"}; every other recipient is accepted
   */
  public static CaptureSmtpServer start(Map<String, String> rcptReplies) throws IOException {
    return start(options().rcptReplies(rcptReplies));
  }

  public static CaptureSmtpServer start(Options options) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.bind(new InetSocketAddress(options.address, options.port), 200);
    CaptureSmtpServer server = new CaptureSmtpServer(listener, options);
    server.acceptor.start();
    return server;
  }

  public String host() {
    return listener.getInetAddress().getHostAddress();
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Everything accepted so far, in order of the final 250. */
  public List<Captured> messages() {
    return List.copyOf(messages);
  }

  /** The protocol rules clients broke so far, one line each (no secrets, no content). */
  public List<String> violations() {
    return List.copyOf(violations);
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /**
   * Replaces the RCPT answer: given the address and its position in the transaction, a reply line,
   * or null to accept it.
   */
  public void rcptRule(BiFunction<String, Integer, String> rule) {
    this.rcptRule = rule;
  }

  /** Waits this long before answering the final dot (to keep deliveries in flight). */
  public void endOfDataDelay(Duration delay) {
    this.endOfDataDelay = delay;
  }

  /**
   * Holds every final-dot reply from now on until {@link #releaseEndOfData()} (deliveries stay in
   * flight as long as a test needs, without guessing a delay).
   */
  public void holdEndOfData() {
    hold = new java.util.concurrent.CountDownLatch(1);
  }

  /** Lets every held and later final-dot reply go. */
  public void releaseEndOfData() {
    java.util.concurrent.CountDownLatch h = hold;
    hold = null;
    if (h != null) {
      h.countDown();
    }
  }

  /** Messages whose final-dot reply is being held now. */
  public int heldNow() {
    return held.get();
  }

  /** Answers new connections with 421 and closes them. */
  public void refuse(boolean value) {
    refuseWith(value ? "421 4.3.2 Not accepting connections" : null);
  }

  /** Answers new connections with this greeting and closes them (null: greets normally). */
  public void refuseWith(String greeting) {
    this.refusal = greeting;
  }

  /** The most sessions that were open at once (connected and not yet closed). */
  public int mostOpenAtOnce() {
    return mostOpen.get();
  }

  /** When each connection was accepted, refused ones included. */
  public List<Instant> connectedAt() {
    return List.copyOf(connectedAt);
  }

  /** When each message was accepted (the 250 after the final dot). */
  public List<Instant> acceptedAt() {
    return List.copyOf(acceptedAt);
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
        connections.incrementAndGet();
        connectedAt.add(Instant.now());
        sessions.add(socket);
        Thread.ofVirtual().name("capture-smtp-session").start(() -> serve(socket));
      } catch (IOException e) {
        if (!listener.isClosed()) {
          log.warn("capture SMTP server: accept failed: {}", e.getMessage());
        }
      }
    }
  }

  private void serve(Socket socket) {
    mostOpen.accumulateAndGet(openNow.incrementAndGet(), Math::max);
    try (socket) {
      socket.setSoTimeout(IDLE_TIMEOUT_MILLIS);
      String refused = refusal;
      if (refused != null) {
        socket.getOutputStream().write((refused + "\r\n").getBytes(StandardCharsets.UTF_8));
        return;
      }
      new SmtpSession(socket, this).run();
    } catch (SocketException e) {
      log.debug("capture SMTP session ended: {}", e.getMessage());
    } catch (IOException e) {
      log.debug("capture SMTP session failed: {}", e.getMessage());
    } finally {
      openNow.decrementAndGet();
      sessions.remove(socket);
    }
  }

  String hostName() {
    return hostName;
  }

  Options settings() {
    return options;
  }

  /** The configured reply for a recipient at this position, or null to accept it. */
  String rcptReply(String address, int index) {
    return rcptRule.apply(address, index);
  }

  void violation(String what) {
    violations.add(what);
    log.debug("capture SMTP server: client broke a rule: {}", what);
  }

  void delayEndOfData() throws IOException {
    java.util.concurrent.CountDownLatch h = hold;
    if (h != null) {
      held.incrementAndGet();
      try {
        h.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      } finally {
        held.decrementAndGet();
      }
    }
    long millis = endOfDataDelay.toMillis();
    if (millis > 0) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
  }

  long store(
      String reversePath,
      List<String> forwardPaths,
      byte[] data,
      List<String> mailParameters,
      List<String> rcptParameters,
      boolean tls,
      String user) {
    long id = ids.incrementAndGet();
    acceptedAt.add(Instant.now());
    messages.add(
        new Captured(
            id,
            reversePath,
            new ArrayList<>(forwardPaths),
            data,
            mailParameters,
            rcptParameters,
            tls,
            user));
    return id;
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException e) {
      log.debug("closing the capture SMTP listener: {}", e.getMessage());
    }
    for (Socket socket : sessions) {
      try {
        socket.close();
      } catch (IOException e) {
        log.debug("closing a capture SMTP session: {}", e.getMessage());
      }
    }
  }
}
