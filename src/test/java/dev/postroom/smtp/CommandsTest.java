package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.open;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** NOOP, RSET, VRFY, EXPN, HELP, QUIT, and command injection refused before a byte is written. */
class CommandsTest {
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

  @Test
  void everyOtherCommandReturnsTheParsedReply() throws Exception {
    server.on("VRFY", "250 2.1.5 Jane <jane@example.org>");
    server.on("EXPN", "250-2.1.5 <a@example.org>\r\n250 2.1.5 <b@example.org>");
    SmtpConnection c = open(server);
    assertThat(c.noop().code()).isEqualTo(250);
    assertThat(c.rset().code()).isEqualTo(250);
    assertThat(c.vrfy("jane").text()).isEqualTo("Jane <jane@example.org>");
    assertThat(c.expn("team").lines()).hasSize(2);
    assertThat(c.help(null).code()).isEqualTo(214);
    assertThat(c.quit().code()).isEqualTo(221);
    assertThat(server.session().commands())
        .containsExactly(
            "EHLO client.example", "NOOP", "RSET", "VRFY jane", "EXPN team", "HELP", "QUIT");
  }

  @Test
  void aRefusedExpnLeavesTheSessionUsable() {
    try (SmtpConnection c = open(server)) {
      Reply reply = c.expn("staff");
      assertThat(reply.code()).isEqualTo(502);
      assertThat(reply.isPermanentFailure()).isTrue();
      assertThat(c.isReusable()).isTrue();
    }
  }

  @Test
  void aRefusedRsetMakesTheSessionUnusable() {
    server.on("RSET", "500 5.5.1 what");
    try (SmtpConnection c = open(server)) {
      assertThat(c.rset().code()).isEqualTo(500);
      assertThat(c.isReusable()).isFalse();
    }
  }

  @Test
  void closeSendsQuit() throws Exception {
    open(server).close();
    assertThat(server.session().awaitEnd(2000)).isTrue();
    assertThat(server.session().commands()).endsWith("QUIT");
  }

  @Test
  void lineBreaksInCommandArgumentsAreRefusedBeforeAnyByteIsWritten() throws Exception {
    try (SmtpConnection c = open(server)) {
      assertThatThrownBy(() -> c.vrfy("x\r\nMAIL FROM:<a@b>"))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> c.expn("x\nRSET")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> c.help("x\0")).isInstanceOf(IllegalArgumentException.class);
      assertThat(c.noop().code()).isEqualTo(250);
    }
    assertThat(server.session().commands()).containsExactly("EHLO client.example", "NOOP", "QUIT");
  }

  @Test
  void lineBreaksAndNulInAddressesAreRefusedWhenTheEnvelopeIsMade() {
    assertThatThrownBy(() -> new Envelope("a@b.example\r\nRCPT TO:<x@y>", List.of("c@d.example")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Envelope("a@b.example", List.of("c@d.example\nDATA")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Envelope("a@b.example", List.of("c\0@d.example")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Envelope("a@b.example", List.of("c@d.example> NOTIFY=NEVER")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void lineBreaksInTheHeloNameAndCredentialsAreRefusedAtConstruction() {
    assertThatThrownBy(() -> SmtpSettings.defaults("client.example\r\nMAIL"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("heloName");
    assertThatThrownBy(() -> new Credentials("user\0x", "pw", null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
