package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.hello;
import static dev.postroom.smtp.Smtp.message;
import static dev.postroom.smtp.Smtp.open;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.postroom.smtp.RecipientOutcome.Deferred;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** 421, dropped connections, stalls and trickles: everything open is deferred, nothing hangs. */
class FailureTest {
  private static final Duration SHORT = Duration.ofMillis(300);
  private ScriptedSmtpServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedSmtpServer();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    server.assertNoViolations();
  }

  /**
   * A connection whose deadline for {@code step} alone (and QUIT's, which changes no result) is
   * short; every other step keeps a generous one, so a slow machine cannot fail a step the test is
   * not about.
   */
  private SmtpConnection openShort(String step) {
    Duration l = Duration.ofSeconds(10);
    Timeouts timeouts =
        new Timeouts(
            l,
            step.equals("greeting") ? SHORT : l,
            l,
            l,
            l,
            step.equals("mail") ? SHORT : l,
            l,
            l,
            step.equals("dataBlock") ? SHORT : l,
            step.equals("dataEnd") ? SHORT : l,
            l,
            SHORT);
    return SmtpConnection.open(Smtp.plain(server), Smtp.settings().withTimeouts(timeouts));
  }

  /** Every one of the single recipient's (or both recipients') outcomes is deferred at stage. */
  private static void assertAllDeferred(TransactionResult result, Stage stage) {
    assertAllDeferred(result, stage, 1);
  }

  private static void assertAllDeferred(TransactionResult result, Stage stage, int recipients) {
    assertThat(result.outcomes())
        .hasSize(recipients)
        .allSatisfy(o -> {
          assertThat(o).isInstanceOf(Deferred.class);
          assertThat(o.stage()).isEqualTo(stage);
        });
    assertThat(result.connectionFailure()).isNotNull();
  }

  @Test
  void a421MidTransactionDefersEveryOpenRecipientAndEndsTheSession() {
    server.advertise("PIPELINING");
    server.on("RCPT", "250 2.1.5 Ok", "421 4.3.2 Shutting down");
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org", "b@example.org"), hello());
      assertAllDeferred(result, Stage.RCPT, 2);
      assertThat(result.connectionFailure().code()).isEqualTo(421);
      assertThat(c.isReusable()).isFalse();
      assertThat(server.session().messages()).isEmpty();
    }
  }

  @Test
  void a421AfterTheFinalDotDefersWithoutFlaggingADuplicate() {
    server.on("DATA_END", "421 4.3.2 Shutting down");
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertAllDeferred(result, Stage.DATA_END);
      assertThat(((Deferred) result.outcomes().get(0)).possibleDuplicate()).isFalse();
      assertThat(c.isReusable()).isFalse();
    }
  }

  @Test
  void aConnectionDroppedAtRcptDefersEveryRecipient() {
    server.on("RCPT", ScriptedSmtpServer.DROP);
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertAllDeferred(result, Stage.RCPT);
      assertThat(result.connectionFailure().enhanced()).hasToString("4.4.2");
      assertThat(c.isReusable()).isFalse();
    }
  }

  @Test
  void aConnectionDroppedWhileTheContentIsSentIsNotAPossibleDuplicate() {
    server.on("DATA", ScriptedSmtpServer.DROP_AFTER_354);
    String big = "Subject: big\r\n\r\n" + "0123456789".repeat(90).concat("\r\n").repeat(8_000);
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org"), message(big));
      Deferred outcome = (Deferred) result.outcomes().get(0);
      assertThat(outcome.stage()).isEqualTo(Stage.DATA);
      assertThat(outcome.possibleDuplicate()).isFalse();
      assertThat(c.isReusable()).isFalse();
    }
  }

  @Test
  void aTimeoutAfterTheFinalDotIsDeferredAndFlaggedAsAPossibleDuplicate() {
    server.on("DATA_END", ScriptedSmtpServer.STALL);
    try (SmtpConnection c = openShort("dataEnd")) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertAllDeferred(result, Stage.DATA_END);
      Deferred outcome = (Deferred) result.outcomes().get(0);
      assertThat(outcome.possibleDuplicate()).isTrue();
      assertThat(outcome.reply().enhanced()).hasToString("4.4.2");
      assertThat(outcome.reply().text()).contains("timeout");
      assertThat(c.isReusable()).isFalse();
    }
  }

  @Test
  void aTimeoutWaitingForMailIsDeferredAndNotADuplicate() {
    server.on("MAIL", ScriptedSmtpServer.STALL);
    try (SmtpConnection c = openShort("mail")) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertAllDeferred(result, Stage.MAIL);
      assertThat(((Deferred) result.outcomes().get(0)).possibleDuplicate()).isFalse();
    }
  }

  @Test
  void aTricklingServerCannotStretchAReplyDeadline() {
    server.on("MAIL", server.trickle(10));
    assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> {
          try (SmtpConnection c = openShort("mail")) {
            TransactionResult result = c.send(to("a@example.org"), hello());
            assertAllDeferred(result, Stage.MAIL);
            assertThat(result.connectionFailure().text()).contains("timeout");
          }
        });
  }

  @Test
  void aStalledGreetingIsATimeout() {
    server.on("GREETING", ScriptedSmtpServer.STALL);
    assertThatThrownBy(() -> openShort("greeting"))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.TIMEOUT);
              assertThat(e.stage()).isEqualTo(Stage.GREETING);
              assertThat(e.isTransient()).isTrue();
            });
  }

  @Test
  void sendingOnABrokenSessionDefersWithoutWritingAByte() {
    server.on("NOOP", "421 4.3.2 bye");
    try (SmtpConnection c = open(server)) {
      assertThat(c.noop().code()).isEqualTo(421);
      assertThat(c.isReusable()).isFalse();
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertThat(result.outcomes().get(0)).isInstanceOf(Deferred.class);
      assertThat(result.connectionFailure().enhanced()).hasToString("4.4.2");
    }
    assertThat(server.session().received()).doesNotContain("MAIL");
  }

  @Test
  void aReplyLineEndingInABareLineFeedIsAProtocolErrorNotAWait() {
    server.on("MAIL", "250-2.1.0 Ok\n250 more");
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertAllDeferred(result, Stage.MAIL);
      assertThat(result.connectionFailure().enhanced()).hasToString("4.5.0");
      assertThat(c.isReusable()).isFalse();
    }
  }

  @Test
  void anOverlongReplyLineIsAProtocolError() {
    server.on("RCPT", "250 " + "x".repeat(ReplyParser.MAX_LINE + 10));
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertAllDeferred(result, Stage.RCPT);
      assertThat(result.connectionFailure().text()).contains("longer than");
    }
  }

  @Test
  void aRefusedConnectionIsATransientConnectFailure() throws Exception {
    int closedPort;
    try (var probe = new java.net.ServerSocket(0)) {
      closedPort = probe.getLocalPort();
    }
    SmtpEndpoint nowhere = new SmtpEndpoint("127.0.0.1", closedPort, TlsMode.NONE);
    assertThatThrownBy(() -> SmtpConnection.open(nowhere, Smtp.settings()))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.CONNECT);
              assertThat(e.stage()).isEqualTo(Stage.CONNECT);
              assertThat(e.reply().enhanced()).hasToString("4.4.1");
              assertThat(e.isTransient()).isTrue();
            });
  }

  @Test
  void aServerThatStopsReadingHitsTheDataBlockDeadline() {
    server.advertise("PIPELINING", "SIZE 200000000");
    server.on("DATA", ScriptedSmtpServer.UNREAD_AFTER_354);
    byte[] line = ("x".repeat(998) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    MessageContent huge =
        new MessageContent() {
          @Override
          public long size() {
            return 100_000L * line.length;
          }

          @Override
          public boolean eightBit() {
            return false;
          }

          @Override
          public void writeTo(java.io.OutputStream out) throws java.io.IOException {
            for (int i = 0; i < 100_000; i++) {
              out.write(line);
            }
          }
        };
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          try (SmtpConnection c = openShort("dataBlock")) {
            TransactionResult result = c.send(to("a@example.org"), huge);
            Deferred outcome = (Deferred) result.outcomes().get(0);
            assertThat(outcome.stage()).isEqualTo(Stage.DATA);
            assertThat(outcome.possibleDuplicate()).isFalse();
            assertThat(outcome.reply().text()).contains("timeout");
            assertThat(c.isReusable()).isFalse();
          }
        });
  }
}
