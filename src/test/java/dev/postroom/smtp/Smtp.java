package dev.postroom.smtp;

import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** Shared set-up for tests against {@link ScriptedSmtpServer}. */
final class Smtp {
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  private Smtp() {}

  static SmtpSettings settings() {
    return SmtpSettings.defaults("client.example").withTimeouts(Timeouts.uniform(TIMEOUT));
  }

  static SmtpEndpoint plain(ScriptedSmtpServer server) {
    return new SmtpEndpoint("127.0.0.1", server.port(), TlsMode.NONE);
  }

  static SmtpEndpoint endpoint(ScriptedSmtpServer server, TlsMode mode) {
    return new SmtpEndpoint("127.0.0.1", server.port(), mode);
  }

  static SmtpConnection open(ScriptedSmtpServer server) {
    return SmtpConnection.open(plain(server), settings());
  }

  static MessageContent message(String text) {
    return MessageContent.of(text.getBytes(StandardCharsets.UTF_8));
  }

  static MessageContent hello() {
    return message("Subject: hi\r\n\r\nHello.\r\n");
  }

  static Envelope to(String... recipients) {
    return new Envelope("sender@example.com", List.of(recipients));
  }

  /** Sends {@link #hello()} on a fresh plaintext session and closes it. */
  static TransactionResult sendOnce(ScriptedSmtpServer server, Envelope envelope) {
    try (SmtpConnection c = open(server)) {
      return c.send(envelope, hello());
    }
  }
}
