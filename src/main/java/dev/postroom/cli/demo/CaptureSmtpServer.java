package dev.postroom.cli.demo;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small SMTP server (RFC 5321) that accepts mail and keeps it in memory instead of relaying it.
 * It speaks ESMTP with PIPELINING, 8BITMIME, SMTPUTF8, SIZE and ENHANCEDSTATUSCODES, enforces the
 * command order (503 out of sequence), removes dot-stuffing, and answers RCPT for chosen addresses
 * with a chosen reply, so a demo can show rejected and deferred recipients. No TLS, no AUTH.
 */
public final class CaptureSmtpServer implements AutoCloseable {
  public static final long MAX_MESSAGE_BYTES = 50L * 1024 * 1024;
  static final int MAX_RECIPIENTS = 100;
  static final int IDLE_TIMEOUT_MILLIS = 5 * 60 * 1000;
  private static final Logger log = LoggerFactory.getLogger(CaptureSmtpServer.class);

  /** One message as received: the envelope and the content with dot-stuffing removed. */
  public record Captured(long id, String reversePath, List<String> forwardPaths, byte[] data) {
    public Captured {
      forwardPaths = List.copyOf(forwardPaths);
    }

    public String content() {
      return new String(data, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  private final ServerSocket listener;
  private final Map<String, String> rcptReplies;
  private final String hostName;
  private final List<Captured> messages = new CopyOnWriteArrayList<>();
  private final Set<Socket> sessions = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  private final Thread acceptor;

  private CaptureSmtpServer(ServerSocket listener, Map<String, String> rcptReplies) {
    this.listener = listener;
    this.rcptReplies = rcptReplies;
    this.hostName = "capture.postroom.invalid";
    this.acceptor =
        Thread.ofPlatform().name("capture-smtp-accept").daemon().unstarted(this::acceptLoop);
  }

  /**
   * Listens on a free loopback port.
   *
   * @param rcptReplies reply lines by recipient address (compared case-insensitively), e.g. {@code
   *     "550 5.1.1 User unknown"}; every other recipient is accepted
   */
  public static CaptureSmtpServer start(Map<String, String> rcptReplies) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Map<String, String> replies = new ConcurrentHashMap<>();
    rcptReplies.forEach((address, reply) -> replies.put(address.toLowerCase(Locale.ROOT), reply));
    CaptureSmtpServer server = new CaptureSmtpServer(listener, replies);
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

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
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
    try (socket) {
      socket.setSoTimeout(IDLE_TIMEOUT_MILLIS);
      new SmtpSession(socket, this).run();
    } catch (SocketException e) {
      log.debug("capture SMTP session ended: {}", e.getMessage());
    } catch (IOException e) {
      log.debug("capture SMTP session failed: {}", e.getMessage());
    } finally {
      sessions.remove(socket);
    }
  }

  String hostName() {
    return hostName;
  }

  /** The configured reply for a recipient, or null to accept it. */
  String rcptReply(String address) {
    return rcptReplies.get(address.toLowerCase(Locale.ROOT));
  }

  long store(String reversePath, List<String> forwardPaths, byte[] data) {
    long id = ids.incrementAndGet();
    messages.add(new Captured(id, reversePath, new ArrayList<>(forwardPaths), data));
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
