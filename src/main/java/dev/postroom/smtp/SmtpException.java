package dev.postroom.smtp;

/**
 * A session could not be opened or used. Results of a mail transaction are never thrown; see {@link
 * TransactionResult}.
 */
public class SmtpException extends RuntimeException {
  /** What went wrong, for routing decisions. */
  public enum Kind {
    /** TCP connection (or implicit-TLS handshake before any SMTP byte) failed. */
    CONNECT,
    /** A reply did not arrive in time. */
    TIMEOUT,
    /** The greeting was not 220: 554/521 (no service, permanent) or 421 (transient). */
    GREETING_REJECTED,
    /** STARTTLS was refused or the TLS handshake or certificate check failed. */
    TLS,
    /** AUTH was refused or is impossible; always transient (Postfix soft-bounce). */
    AUTH,
    /** The server broke the protocol, dropped the connection, or answered 421. */
    PROTOCOL,
    /** Our own policy forbids going on (TLS required but not offered, AUTH without TLS). */
    POLICY
  }

  private final Stage stage;
  private final Reply reply;
  private final Kind kind;
  private final boolean transientFailure;

  public SmtpException(Kind kind, Stage stage, Reply reply, boolean transientFailure, String msg) {
    this(kind, stage, reply, transientFailure, msg, null);
  }

  public SmtpException(
      Kind kind, Stage stage, Reply reply, boolean transientFailure, String msg, Throwable cause) {
    super(msg + (reply == null ? "" : " [" + reply + "]"), cause);
    this.kind = kind;
    this.stage = stage;
    this.reply = reply;
    this.transientFailure = transientFailure;
  }

  public Stage stage() {
    return stage;
  }

  /** The server's reply, or a local reply describing the failure; may be null. */
  public Reply reply() {
    return reply;
  }

  /** Whether trying again later (or elsewhere) may succeed. */
  public boolean isTransient() {
    return transientFailure;
  }

  public Kind kind() {
    return kind;
  }
}
