package dev.postroom.smtp;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP session. {@link #open} connects, reads the greeting, says EHLO (HELO if refused),
 * upgrades with STARTTLS as the endpoint's {@link TlsMode} says, and authenticates; {@link #send}
 * runs as many mail transactions as the envelope needs and reports every recipient.
 *
 * <p>Lifecycle: open → (send | noop | rset | vrfy | expn | help)* → close. A 421, a timeout, a lost
 * connection or a malformed reply makes the session unusable: its socket is closed at once and
 * {@link #isReusable()} turns false. Not thread-safe: one caller at a time.
 */
public final class SmtpConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpConnection.class);

  private final SmtpEndpoint endpoint;
  private final SmtpSettings settings;
  private final Wire wire;
  private final String remoteHost;
  private Capabilities capabilities = Capabilities.none();
  private boolean broken;
  private boolean closed;
  private int sends;

  private SmtpConnection(
      SmtpEndpoint endpoint, SmtpSettings settings, Wire wire, String remoteHost) {
    this.endpoint = endpoint;
    this.settings = settings;
    this.wire = wire;
    this.remoteHost = remoteHost;
  }

  /**
   * Opens a ready session: connected, greeted, EHLO done, TLS as required, authenticated when
   * credentials are set.
   *
   * @throws SmtpException when any of that fails; the socket is closed then
   */
  public static SmtpConnection open(SmtpEndpoint endpoint, SmtpSettings settings) {
    Socket socket = new Socket();
    String remote = endpoint.host();
    try {
      InetSocketAddress address =
          endpoint.address() == null
              ? new InetSocketAddress(endpoint.host(), endpoint.port())
              : new InetSocketAddress(endpoint.address(), endpoint.port());
      socket.connect(
          address, (int) Math.min(Integer.MAX_VALUE, settings.timeouts().connect().toMillis()));
      socket.setTcpNoDelay(true);
      remote = endpoint.host() + " [" + socket.getInetAddress().getHostAddress() + "]";
    } catch (IOException e) {
      closeQuietly(socket);
      throw new SmtpException(
          SmtpException.Kind.CONNECT,
          Stage.CONNECT,
          Reply.local(451, "4.4.1", "cannot connect to " + endpoint + ": " + e.getMessage()),
          true,
          "connect failed",
          e);
    }
    Socket first = socket;
    if (endpoint.tls() == TlsMode.IMPLICIT) {
      try {
        first =
            TlsSupport.handshake(socket, endpoint.host(), settings, settings.timeouts().startTls());
      } catch (IOException e) {
        closeQuietly(socket);
        throw tlsFailure(Stage.CONNECT, remote, e);
      }
    }
    try {
      SmtpConnection connection =
          new SmtpConnection(endpoint, settings, new Wire(first, remote), remote);
      Handshake.run(connection);
      LOG.debug(
          "connected to {} ({}{})",
          remote,
          connection.tlsProtocol().orElse("plaintext"),
          settings.credentials() == null ? "" : ", authenticated");
      return connection;
    } catch (IOException e) {
      closeQuietly(first);
      throw new SmtpException(
          SmtpException.Kind.CONNECT, Stage.CONNECT, null, true, "cannot use socket", e);
    } catch (RuntimeException e) {
      closeQuietly(first);
      throw e;
    }
  }

  /**
   * Sends one message to every recipient of {@code envelope}, in as many transactions as the server
   * and {@link SmtpSettings#maxRecipientsPerTransaction()} need. SMTP outcomes are never thrown.
   *
   * @throws IllegalArgumentException never for addresses (the envelope checked them); only for
   *     programming errors
   */
  public TransactionResult send(Envelope envelope, MessageContent content) {
    sends++;
    return new Transaction(this, envelope, content).run();
  }

  /** True until the first {@link #send}: the session was opened for this use, not reused. */
  public boolean isFresh() {
    return sends == 0;
  }

  public Reply noop() {
    return simple(Stage.NOOP, "NOOP");
  }

  /** RSET; a reply other than 2xx leaves the session unusable (RFC 5321 §4.1.1.5 wants 250). */
  public Reply rset() {
    Reply reply = simple(Stage.RSET, "RSET");
    if (!reply.isPositive()) {
      markBroken();
    }
    return reply;
  }

  public Reply vrfy(String argument) {
    Addresses.checkArgument("VRFY argument", argument);
    return simple(Stage.VRFY, "VRFY " + argument);
  }

  public Reply expn(String argument) {
    Addresses.checkArgument("EXPN argument", argument);
    return simple(Stage.EXPN, "EXPN " + argument);
  }

  /** HELP, with an optional topic (null for none). */
  public Reply help(String topic) {
    if (topic != null) {
      Addresses.checkArgument("HELP topic", topic);
    }
    return simple(Stage.HELP, topic == null || topic.isEmpty() ? "HELP" : "HELP " + topic);
  }

  /** QUIT, returning the server's reply (normally 221); the session is closed afterwards. */
  public Reply quit() {
    Reply reply = simple(Stage.QUIT, "QUIT");
    closed = true;
    wire.close();
    return reply;
  }

  public Capabilities capabilities() {
    return capabilities;
  }

  /** "host [ip]" of the server. */
  public String remoteHost() {
    return remoteHost;
  }

  public SmtpEndpoint endpoint() {
    return endpoint;
  }

  /** The TLS protocol in use ("TLSv1.3"), empty for plaintext. */
  public Optional<String> tlsProtocol() {
    return wire.socket() instanceof SSLSocket tls
        ? Optional.ofNullable(tls.getSession().getProtocol())
        : Optional.empty();
  }

  /** The subject of the server's certificate, empty for plaintext. */
  public Optional<String> peerCertificateSubject() {
    if (wire.socket() instanceof SSLSocket tls) {
      try {
        var certs = tls.getSession().getPeerCertificates();
        if (certs.length > 0 && certs[0] instanceof X509Certificate x509) {
          return Optional.of(x509.getSubjectX500Principal().getName());
        }
      } catch (SSLPeerUnverifiedException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** True while no 421, timeout, lost connection or protocol error was seen and not closed. */
  public boolean isReusable() {
    return !broken && !closed;
  }

  /** Whether the server sent bytes nobody asked for (an asynchronous 421, or a desync). */
  public boolean hasPendingInput() {
    return !closed && !broken && wire.hasPendingInput();
  }

  /** Sends QUIT (waiting at most the QUIT timeout) if the session is usable, then closes. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!broken) {
      try {
        wire.command("QUIT", null);
        wire.flush(settings.timeouts().quit());
        wire.read(settings.timeouts().quit());
      } catch (IOException e) {
        LOG.debug("QUIT to {} not answered: {}", remoteHost, e.getMessage());
      }
    }
    wire.close();
  }

  // ---- package-private: used by Handshake, Authenticator and Transaction ----

  SmtpSettings settings() {
    return settings;
  }

  Wire wire() {
    return wire;
  }

  void capabilities(Capabilities value) {
    capabilities = value;
  }

  /** Marks the session unusable and closes the socket without QUIT. */
  void markBroken() {
    broken = true;
    wire.close();
  }

  /** Writes one command, flushes, reads its reply under the stage's deadline. */
  Reply exchange(Stage stage, String line, String redacted) throws IOException {
    Duration timeout = settings.timeouts().forStage(stage);
    wire.command(line, redacted);
    wire.flush(timeout);
    return wire.read(timeout);
  }

  private Reply simple(Stage stage, String line) {
    if (!isReusable()) {
      throw new SmtpException(
          SmtpException.Kind.PROTOCOL,
          stage,
          Reply.local(451, "4.4.2", "connection is not usable"),
          true,
          "connection to " + remoteHost + " is closed or broken");
    }
    try {
      Reply reply = exchange(stage, line, null);
      if (reply.code() == 421 || reply.isIntermediate()) {
        markBroken();
      }
      return reply;
    } catch (IOException e) {
      markBroken();
      throw failure(stage, e);
    }
  }

  /** The exception for an I/O failure while waiting for a reply at {@code stage}. */
  SmtpException failure(Stage stage, IOException e) {
    Reply reply = localFailure(stage, e);
    SmtpException.Kind kind =
        e instanceof SocketTimeoutException
            ? SmtpException.Kind.TIMEOUT
            : SmtpException.Kind.PROTOCOL;
    return new SmtpException(
        kind, stage, reply, true, stage + " with " + remoteHost + " failed", e);
  }

  /** Local reply for a lost connection (4.4.2), a timeout (4.4.2) or a garbled reply (4.5.0). */
  static Reply localFailure(Stage stage, IOException e) {
    String unknown =
        stage == Stage.DATA_END
            ? "; the final \".\" was sent, so the outcome is unknown and the message may have been"
                + " delivered (possible duplicate)"
            : "";
    if (e instanceof ReplySyntaxException) {
      return Reply.local(
          451, "4.5.0", "protocol error in reply to " + stage + ": " + e.getMessage() + unknown);
    }
    if (e instanceof SocketTimeoutException) {
      return Reply.local(451, "4.4.2", "timeout waiting for reply to " + stage + unknown);
    }
    String why = e instanceof EOFException ? "connection closed by server" : e.toString();
    return Reply.local(
        451, "4.4.2", "connection lost during " + stage + " (" + why + ")" + unknown);
  }

  static SmtpException tlsFailure(Stage stage, String remote, IOException e) {
    if (e instanceof SocketTimeoutException) {
      return new SmtpException(
          SmtpException.Kind.TIMEOUT,
          stage,
          Reply.local(451, "4.4.2", "timeout during TLS handshake with " + remote),
          true,
          "TLS handshake timed out",
          e);
    }
    return new SmtpException(
        SmtpException.Kind.TLS,
        stage,
        Reply.local(451, "4.7.5", "TLS handshake with " + remote + " failed: " + e.getMessage()),
        true,
        "TLS handshake failed",
        e);
  }

  static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing more to do
    }
  }
}
