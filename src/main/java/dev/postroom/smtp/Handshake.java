package dev.postroom.smtp;

import java.io.IOException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Session set-up after the TCP (or implicit TLS) connection: greeting, EHLO with HELO fallback,
 * STARTTLS as the endpoint's {@link TlsMode} says, then AUTH.
 *
 * <ul>
 *   <li>A 554 or 521 greeting means no SMTP service here (permanent for this host); 421 and other
 *       4xx are transient (RFC 5321 §3.1, §4.3.2; RFC 7504).
 *   <li>500/502 to EHLO falls back to HELO on the same connection; 421 never does (research B3,
 *       B4). After HELO nothing is advertised.
 *   <li>After 220 to STARTTLS, plaintext the server sent ahead is thrown away before the handshake
 *       (RFC 3207 §6, CVE-2011-0411), and EHLO is said again; capabilities from before TLS are
 *       forgotten.
 *   <li>With STARTTLS_REQUIRED no MAIL and no AUTH ever go over plaintext.
 * </ul>
 */
final class Handshake {
  private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);

  private Handshake() {}

  static void run(SmtpConnection c) throws IOException {
    greeting(c);
    hello(c);
    TlsMode mode = c.endpoint().tls();
    boolean encrypted = mode == TlsMode.IMPLICIT;
    if (mode == TlsMode.STARTTLS_REQUIRED && !c.capabilities().startTls()) {
      fail(
          c,
          SmtpException.Kind.POLICY,
          Stage.STARTTLS,
          Reply.local(
              451, "4.7.4", "TLS is required but " + c.remoteHost() + " does not offer STARTTLS"),
          "STARTTLS required but not offered");
    }
    if ((mode == TlsMode.STARTTLS || mode == TlsMode.STARTTLS_REQUIRED)
        && c.capabilities().startTls()) {
      encrypted = startTls(c, mode == TlsMode.STARTTLS_REQUIRED);
    }
    if (c.settings().credentials() != null) {
      if (!encrypted && !c.settings().allowAuthWithoutTls()) {
        fail(
            c,
            SmtpException.Kind.POLICY,
            Stage.AUTH,
            Reply.local(
                451,
                "4.7.0",
                "Postroom does not send credentials over an unencrypted connection (its own rule,"
                    + " not the server's): use tls 'starttls_required' or 'implicit'"),
            "Postroom's rule: no AUTH without TLS");
      }
      Authenticator.authenticate(c);
    }
  }

  private static void greeting(SmtpConnection c) throws IOException {
    Reply greeting = read(c, Stage.GREETING);
    if (greeting.code() == 220) {
      return;
    }
    boolean permanent = greeting.isPermanentFailure();
    fail(
        c,
        permanent ? SmtpException.Kind.GREETING_REJECTED : SmtpException.Kind.CONNECT,
        Stage.GREETING,
        greeting,
        permanent ? "server refuses SMTP service" : "server not ready");
  }

  private static void hello(SmtpConnection c) throws IOException {
    Reply ehlo = exchange(c, Stage.EHLO, "EHLO " + c.settings().heloName());
    if (ehlo.isPositive()) {
      c.capabilities(Capabilities.parseEhlo(ehlo));
      return;
    }
    if (ehlo.code() == 421 || ehlo.isTransientFailure()) {
      fail(c, SmtpException.Kind.PROTOCOL, Stage.EHLO, ehlo, "EHLO refused");
    }
    Reply helo = exchange(c, Stage.EHLO, "HELO " + c.settings().heloName());
    if (!helo.isPositive()) {
      fail(c, SmtpException.Kind.PROTOCOL, Stage.EHLO, helo, "EHLO and HELO refused");
    }
    c.capabilities(Capabilities.none());
  }

  /** Returns true once encrypted; false when an opportunistic upgrade was refused by the server. */
  private static boolean startTls(SmtpConnection c, boolean required) throws IOException {
    Reply reply = exchange(c, Stage.STARTTLS, "STARTTLS");
    if (reply.code() != 220) {
      if (required || reply.code() == 421) {
        fail(c, SmtpException.Kind.TLS, Stage.STARTTLS, reply, "STARTTLS refused");
      }
      LOG.debug("{} refused STARTTLS ({}); going on in plaintext", c.remoteHost(), reply.code());
      return false;
    }
    SSLSocket tls;
    try {
      tls =
          TlsSupport.handshake(
              c.wire().socket(),
              c.endpoint().host(),
              c.settings(),
              c.settings().timeouts().startTls());
    } catch (IOException e) {
      c.markBroken();
      throw SmtpConnection.tlsFailure(Stage.STARTTLS, c.remoteHost(), e);
    }
    int discarded = c.wire().upgrade(tls);
    if (discarded > 0) {
      LOG.warn(
          "{} sent {} bytes after its STARTTLS reply; discarded unread (RFC 3207 §6)",
          c.remoteHost(),
          discarded);
    }
    c.capabilities(Capabilities.none());
    Reply ehlo = exchange(c, Stage.EHLO, "EHLO " + c.settings().heloName());
    if (!ehlo.isPositive()) {
      fail(c, SmtpException.Kind.PROTOCOL, Stage.EHLO, ehlo, "EHLO after STARTTLS refused");
    }
    c.capabilities(Capabilities.parseEhlo(ehlo));
    return true;
  }

  static Reply exchange(SmtpConnection c, Stage stage, String line) throws IOException {
    try {
      return c.exchange(stage, line, null);
    } catch (IOException e) {
      c.markBroken();
      throw c.failure(stage, e);
    }
  }

  private static Reply read(SmtpConnection c, Stage stage) throws IOException {
    try {
      return c.wire().read(c.settings().timeouts().forStage(stage));
    } catch (IOException e) {
      c.markBroken();
      throw c.failure(stage, e);
    }
  }

  static void fail(
      SmtpConnection c, SmtpException.Kind kind, Stage stage, Reply reply, String message) {
    c.close();
    throw new SmtpException(
        kind,
        stage,
        reply,
        !reply.isPermanentFailure() || kind == SmtpException.Kind.AUTH,
        message + " by " + c.remoteHost());
  }
}
