package dev.postroom.smtp;

import java.time.Duration;

/**
 * How long each step may take. Every value is a deadline for one whole reply (or, for {@code
 * dataBlock}, one write of message data), so a server trickling bytes cannot stretch a step.
 */
public record Timeouts(
    Duration connect,
    Duration greeting,
    Duration ehlo,
    Duration startTls,
    Duration auth,
    Duration mail,
    Duration rcpt,
    Duration dataInit,
    Duration dataBlock,
    Duration dataEnd,
    Duration rset,
    Duration quit) {

  public Timeouts {
    check("connect", connect);
    check("greeting", greeting);
    check("ehlo", ehlo);
    check("startTls", startTls);
    check("auth", auth);
    check("mail", mail);
    check("rcpt", rcpt);
    check("dataInit", dataInit);
    check("dataBlock", dataBlock);
    check("dataEnd", dataEnd);
    check("rset", rset);
    check("quit", quit);
  }

  /**
   * RFC 5321 §4.5.3.2 minimums (greeting, MAIL, RCPT 5 min; DATA initiation 2 min; data block 3
   * min; end of data 10 min) and Postfix's defaults for the rest (connect 30 s, EHLO, STARTTLS and
   * AUTH 5 min, RSET 20 s); QUIT waits 10 s because its answer never changes a result.
   */
  public static Timeouts defaults() {
    Duration fiveMinutes = Duration.ofMinutes(5);
    return new Timeouts(
        Duration.ofSeconds(30),
        fiveMinutes,
        fiveMinutes,
        fiveMinutes,
        fiveMinutes,
        fiveMinutes,
        fiveMinutes,
        Duration.ofMinutes(2),
        Duration.ofMinutes(3),
        Duration.ofMinutes(10),
        Duration.ofSeconds(20),
        Duration.ofSeconds(10));
  }

  /** QUIT's answer never changes a result, so it waits at most this long whatever the setting. */
  public static final Duration MAX_QUIT = Duration.ofSeconds(10);

  /**
   * The six operator settings ({@code smtp_connect_timeout} … {@code smtp_data_done_timeout}):
   * {@code command} covers EHLO/HELO, STARTTLS and the TLS handshake, AUTH, MAIL, RCPT, RSET, NOOP
   * and QUIT (QUIT at most {@link #MAX_QUIT}).
   */
  public static Timeouts of(
      Duration connect,
      Duration greeting,
      Duration command,
      Duration dataInit,
      Duration dataBlock,
      Duration dataDone) {
    Duration quit = command == null || command.compareTo(MAX_QUIT) > 0 ? MAX_QUIT : command;
    return new Timeouts(
        connect, greeting, command, command, command, command, command, dataInit, dataBlock,
        dataDone, command, quit);
  }

  /** The same limit for every step. */
  public static Timeouts uniform(Duration d) {
    return new Timeouts(d, d, d, d, d, d, d, d, d, d, d, d);
  }

  /** The limit for waiting on the reply of {@code stage}. */
  public Duration forStage(Stage stage) {
    return switch (stage) {
      case CONNECT -> connect;
      case GREETING -> greeting;
      case EHLO -> ehlo;
      case STARTTLS -> startTls;
      case AUTH -> auth;
      case MAIL -> mail;
      case RCPT -> rcpt;
      case DATA -> dataInit;
      case DATA_END -> dataEnd;
      case RSET, NOOP, VRFY, EXPN, HELP -> rset;
      case QUIT -> quit;
    };
  }

  private static void check(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          "timeout " + name + " must be a positive duration, got " + value);
    }
  }
}
