package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.hello;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.postroom.smtp.RecipientOutcome.Deferred;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each of the six operator timeouts ({@code smtp_connect_timeout} … {@code smtp_data_done_timeout},
 * mapped by {@link Timeouts#of}) governs its own stage: the stage under test gets a short limit,
 * every other one a minute, so a stage governed by the wrong setting would outlive the guard.
 */
class TimeoutSettingsTest {
  private static final Duration LONG = Duration.ofSeconds(60);
  private static final Duration SHORT = Duration.ofSeconds(3);
  private static final Duration GUARD = Duration.ofSeconds(25);
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

  private SmtpConnection open(Timeouts timeouts) {
    return SmtpConnection.open(Smtp.plain(server), Smtp.settings().withTimeouts(timeouts));
  }

  @Test
  void theCommandTimeoutCoversEveryCommandAndQuitWaitsAtMostTenSeconds() {
    Timeouts t = Timeouts.of(LONG, LONG, SHORT, LONG, LONG, LONG);
    assertThat(List.of(t.ehlo(), t.startTls(), t.auth(), t.mail(), t.rcpt(), t.rset()))
        .containsOnly(SHORT);
    assertThat(t.quit()).isEqualTo(SHORT);
    assertThat(Timeouts.of(LONG, LONG, LONG, LONG, LONG, LONG).quit())
        .isEqualTo(Duration.ofSeconds(10));
    assertThatThrownBy(() -> Timeouts.of(LONG, LONG, Duration.ZERO, LONG, LONG, LONG))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
  }

  @Test
  void aGreetingThatNeverComesEndsAtTheGreetingTimeout() {
    server.on("GREETING", ScriptedSmtpServer.STALL);
    assertTimeoutPreemptively(
        GUARD,
        () ->
            assertThatThrownBy(() -> open(Timeouts.of(LONG, SHORT, LONG, LONG, LONG, LONG)))
                .isInstanceOfSatisfying(
                    SmtpException.class,
                    e -> {
                      assertThat(e.kind()).isEqualTo(SmtpException.Kind.TIMEOUT);
                      assertThat(e.stage()).isEqualTo(Stage.GREETING);
                      assertThat(e.isTransient()).isTrue();
                    }));
  }

  @Test
  void aReplyTrickledOneByteEveryTwoSecondsHitsTheThreeSecondCommandTimeout() {
    // Every byte arrives within 3 s, so only a deadline for the whole reply can end the wait.
    server.on("MAIL", server.trickle(2000));
    assertTimeoutPreemptively(
        GUARD,
        () -> {
          try (SmtpConnection c = open(Timeouts.of(LONG, LONG, SHORT, LONG, LONG, LONG))) {
            TransactionResult result = c.send(to("a@example.org"), hello());
            Deferred outcome = (Deferred) result.outcomes().get(0);
            assertThat(outcome.stage()).isEqualTo(Stage.MAIL);
            assertThat(outcome.reply().code()).isEqualTo(451);
            assertThat(outcome.reply().enhanced()).hasToString("4.4.2");
            assertThat(outcome.reply().text()).isEqualTo("timeout waiting for reply to MAIL");
            assertThat(outcome.possibleDuplicate()).isFalse();
            assertThat(c.isReusable()).isFalse();
          }
        });
  }

  @Test
  void noReplyToDataEndsAtTheDataInitiationTimeout() {
    server.on("DATA", ScriptedSmtpServer.STALL);
    assertTimeoutPreemptively(
        GUARD,
        () -> {
          try (SmtpConnection c = open(Timeouts.of(LONG, LONG, LONG, SHORT, LONG, LONG))) {
            Deferred outcome = (Deferred) c.send(to("a@example.org"), hello()).outcomes().get(0);
            assertThat(outcome.stage()).isEqualTo(Stage.DATA);
            assertThat(outcome.reply().text()).isEqualTo("timeout waiting for reply to DATA");
            assertThat(outcome.possibleDuplicate()).isFalse();
          }
        });
  }

  @Test
  void noReplyToTheFinalDotEndsAtTheDataDoneTimeoutAsAPossibleDuplicate() {
    server.on("DATA_END", ScriptedSmtpServer.STALL);
    assertTimeoutPreemptively(
        GUARD,
        () -> {
          try (SmtpConnection c = open(Timeouts.of(LONG, LONG, LONG, LONG, LONG, SHORT))) {
            Deferred outcome = (Deferred) c.send(to("a@example.org"), hello()).outcomes().get(0);
            assertThat(outcome.stage()).isEqualTo(Stage.DATA_END);
            assertThat(outcome.reply().text())
                .startsWith("timeout waiting for reply to DATA_END; the final \".\" was sent");
            assertThat(outcome.possibleDuplicate()).isTrue();
          }
        });
    assertThat(server.session().messages()).hasSize(1);
  }

  @Test
  void aServerThatStopsReadingDuringFiveMebibytesOfDataHitsTheDataBlockTimeout() {
    server.advertise("PIPELINING", "SIZE 200000000");
    server.on("DATA", ScriptedSmtpServer.UNREAD_AFTER_354);
    assertTimeoutPreemptively(
        GUARD,
        () -> {
          try (SmtpConnection c = open(Timeouts.of(LONG, LONG, LONG, LONG, SHORT, LONG))) {
            Deferred outcome =
                (Deferred) c.send(to("a@example.org"), fiveMebibytes()).outcomes().get(0);
            assertThat(outcome.stage()).isEqualTo(Stage.DATA);
            assertThat(outcome.reply().enhanced()).hasToString("4.4.2");
            assertThat(outcome.reply().text()).contains("timeout");
            assertThat(outcome.possibleDuplicate()).isFalse();
            assertThat(c.isReusable()).isFalse();
          }
        });
  }

  @Test
  void aConnectionTheServerNeverAcceptsEndsAtTheConnectTimeout() throws Exception {
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<Socket> queued = fillBacklog(full);
      try {
        SmtpEndpoint endpoint = new SmtpEndpoint("127.0.0.1", full.getLocalPort(), TlsMode.NONE);
        SmtpSettings settings =
            Smtp.settings().withTimeouts(Timeouts.of(SHORT, LONG, LONG, LONG, LONG, LONG));
        assertTimeoutPreemptively(
            GUARD,
            () ->
                assertThatThrownBy(() -> SmtpConnection.open(endpoint, settings))
                    .isInstanceOfSatisfying(
                        SmtpException.class,
                        e -> {
                          assertThat(e.stage()).isEqualTo(Stage.CONNECT);
                          assertThat(e.reply().enhanced()).hasToString("4.4.1");
                          assertThat(e.getCause()).isInstanceOf(SocketTimeoutException.class);
                        }));
      } finally {
        for (Socket s : queued) {
          s.close();
        }
      }
    }
  }

  /** Connects until the listen queue of a never-accepting server is full and SYNs go unanswered. */
  private static List<Socket> fillBacklog(ServerSocket listener) throws IOException {
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort()), 300);
        sockets.add(s);
      } catch (SocketTimeoutException full) {
        s.close();
        return sockets;
      }
    }
    throw new IllegalStateException("the listen queue never filled");
  }

  private static MessageContent fiveMebibytes() {
    byte[] line = ("x".repeat(998) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    int lines = 5 * 1024 * 1024 / line.length + 1;
    return new MessageContent() {
      @Override
      public long size() {
        return (long) lines * line.length;
      }

      @Override
      public boolean eightBit() {
        return false;
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        for (int i = 0; i < lines; i++) {
          out.write(line);
        }
      }
    };
  }
}
