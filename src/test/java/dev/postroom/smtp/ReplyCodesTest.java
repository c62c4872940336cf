package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.open;
import static dev.postroom.smtp.Smtp.sendOnce;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.smtp.RecipientOutcome.Deferred;
import dev.postroom.smtp.RecipientOutcome.Delivered;
import dev.postroom.smtp.RecipientOutcome.Failed;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every reply code of the reference table, one test each, as docs/smtp-replies.md lists them. */
class ReplyCodesTest {
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

  private RecipientOutcome only(TransactionResult result) {
    assertThat(result.outcomes()).hasSize(1);
    return result.outcomes().get(0);
  }

  @Test
  void reply211ToHelpIsReturnedAsAPositiveReply() {
    server.on("HELP", "211 2.0.0 System status: fine");
    try (SmtpConnection c = open(server)) {
      Reply reply = c.help(null);
      assertThat(reply.code()).isEqualTo(211);
      assertThat(reply.isPositive()).isTrue();
      assertThat(reply.text()).isEqualTo("System status: fine");
      assertThat(c.isReusable()).isTrue();
    }
  }

  @Test
  void reply214ToHelpCarriesEveryLineOfTheHelpText() {
    server.on("HELP", "214-2.0.0 Commands:\r\n214-2.0.0 HELO EHLO MAIL\r\n214 2.0.0 End");
    try (SmtpConnection c = open(server)) {
      Reply reply = c.help("MAIL");
      assertThat(reply.code()).isEqualTo(214);
      assertThat(reply.lines()).hasSize(3);
      assertThat(server.session().commands()).contains("HELP MAIL");
    }
  }

  @Test
  void reply220GreetingOpensTheSession() {
    server.on("GREETING", "220 mx.example ESMTP");
    try (SmtpConnection c = open(server)) {
      assertThat(c.isReusable()).isTrue();
      assertThat(server.session().commands()).containsExactly("EHLO client.example");
    }
  }

  @Test
  void reply221ToQuitEndsTheSessionCleanly() throws Exception {
    SmtpConnection c = open(server);
    Reply reply = c.quit();
    assertThat(reply.code()).isEqualTo(221);
    assertThat(c.isReusable()).isFalse();
    assertThat(server.session().awaitEnd(2000)).isTrue();
    assertThat(server.session().commands()).endsWith("QUIT");
  }

  @Test
  void reply250AtEveryStepDeliversTheMessage() {
    TransactionResult result = sendOnce(server, to("a@example.org"));
    assertThat(only(result)).isInstanceOf(Delivered.class);
    assertThat(only(result).stage()).isEqualTo(Stage.DATA_END);
    assertThat(only(result).reply().code()).isEqualTo(250);
    assertThat(result.connectionFailure()).isNull();
  }

  @Test
  void reply251ToRcptDeliversAndKeepsTheForwardPath() {
    server.on("RCPT", "251 2.1.5 User not local; will forward to <new@example.net>");
    RecipientOutcome outcome = only(sendOnce(server, to("old@example.org")));
    assertThat(outcome).isInstanceOf(Delivered.class);
    assertThat(outcome.forwardPath()).isEqualTo("new@example.net");
  }

  @Test
  void reply354ToDataIsFollowedByTheContent() {
    sendOnce(server, to("a@example.org"));
    assertThat(server.session().messages()).hasSize(1);
  }

  @Test
  void reply421GreetingIsATransientConnectFailure() {
    server.on("GREETING", "421 4.3.2 Too busy");
    assertThatThrownBy(() -> open(server))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.CONNECT);
              assertThat(e.isTransient()).isTrue();
              assertThat(e.reply().code()).isEqualTo(421);
            });
  }

  @Test
  void reply450ToRcptDefersThatRecipient() {
    server.on("RCPT", "450 4.2.1 Mailbox busy");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Deferred.class);
    assertThat(outcome.stage()).isEqualTo(Stage.RCPT);
    assertThat(((Deferred) outcome).possibleDuplicate()).isFalse();
  }

  @Test
  void reply451ToMailDefersEveryRecipientAndKeepsTheSession() {
    server.on("MAIL", "451 4.3.0 Local error");
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org", "b@example.org"), Smtp.hello());
      assertThat(result.outcomes())
          .hasSize(2)
          .allSatisfy(o -> {
            assertThat(o).isInstanceOf(Deferred.class);
            assertThat(o.stage()).isEqualTo(Stage.MAIL);
            assertThat(o.reply().enhanced()).hasToString("4.3.0");
          });
      assertThat(result.connectionFailure()).isNull();
      assertThat(c.isReusable()).isTrue();
    }
  }

  @Test
  void reply452ToEveryRcptDefersThemAll() {
    server.on("RCPT", "452 4.3.1 Insufficient storage");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Deferred.class);
    assertThat(outcome.reply().code()).isEqualTo(452);
  }

  @Test
  void reply500ToEhloFallsBackToHelo() {
    server.on("EHLO", "500 5.5.1 Command unrecognized");
    try (SmtpConnection c = open(server)) {
      assertThat(c.capabilities().esmtp()).isFalse();
      assertThat(server.session().commands())
          .containsExactly("EHLO client.example", "HELO client.example");
    }
  }

  @Test
  void reply501ToMailFailsEveryRecipient() {
    server.on("MAIL", "501 5.1.7 Bad sender address syntax");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.stage()).isEqualTo(Stage.MAIL);
  }

  @Test
  void reply502ToEhloFallsBackToHeloAndSendsWithoutExtensions() {
    server.on("EHLO", "502 5.5.2 Not implemented");
    server.advertise("PIPELINING", "SIZE 10");
    TransactionResult result = sendOnce(server, to("a@example.org"));
    assertThat(result.allDelivered()).isTrue();
    assertThat(server.session().commands())
        .contains("HELO client.example", "MAIL FROM:<sender@example.com>");
  }

  @Test
  void reply503ToDataFailsTheAcceptedRecipientsAtData() {
    server.on("DATA", "503 5.5.1 Bad sequence of commands");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.stage()).isEqualTo(Stage.DATA);
  }

  @Test
  void reply504ToAuthIsATransientAuthFailure() {
    server.advertise("AUTH PLAIN");
    server.on("AUTH", "504 5.5.4 Unrecognized authentication type");
    SmtpSettings settings =
        Smtp.settings()
            .withCredentials(new Credentials("user", "pw", null))
            .withAllowAuthWithoutTls(true);
    assertThatThrownBy(() -> SmtpConnection.open(Smtp.plain(server), settings))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.AUTH);
              assertThat(e.isTransient()).isTrue();
              assertThat(e.reply().code()).isEqualTo(504);
            });
  }

  @Test
  void reply521GreetingMeansTheHostTakesNoMail() {
    server.on("GREETING", "521 5.3.2 Does not accept mail");
    assertThatThrownBy(() -> open(server))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.GREETING_REJECTED);
              assertThat(e.isTransient()).isFalse();
            });
  }

  @Test
  void reply550ToRcptFailsThatRecipient() {
    server.on("RCPT", "550 5.1.1 No such user");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.stage()).isEqualTo(Stage.RCPT);
    assertThat(outcome.reply().enhanced()).hasToString("5.1.1");
    assertThat(outcome.reply().text()).isEqualTo("No such user");
  }

  @Test
  void reply551ToRcptFailsAndKeepsTheSuggestedForwardPath() {
    server.on("RCPT", "551 5.1.6 User not local; please try <new@example.net>");
    RecipientOutcome outcome = only(sendOnce(server, to("old@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.forwardPath()).isEqualTo("new@example.net");
  }

  @Test
  void reply552AfterDataFailsTheMessage() {
    server.on("DATA_END", "552 5.3.4 Message too big");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.stage()).isEqualTo(Stage.DATA_END);
  }

  @Test
  void reply553ToRcptFailsThatRecipient() {
    server.on("RCPT", "553 5.1.3 Mailbox name not allowed");
    assertThat(only(sendOnce(server, to("a@example.org")))).isInstanceOf(Failed.class);
  }

  @Test
  void reply554GreetingMeansNoServiceAndQuitIsStillSent() throws Exception {
    server.on("GREETING", "554 5.7.1 No SMTP service here");
    assertThatThrownBy(() -> open(server))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.GREETING_REJECTED);
              assertThat(e.isTransient()).isFalse();
            });
    assertThat(server.session().awaitEnd(2000)).isTrue();
    assertThat(server.session().commands()).containsExactly("QUIT");
  }

  @Test
  void reply554AfterDataFailsTheMessage() {
    server.on("DATA_END", "554 5.7.1 Rejected as spam");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.reply().enhanced()).hasToString("5.7.1");
  }

  @Test
  void reply556ToRcptMeansTheDomainTakesNoMail() {
    server.on("RCPT", "556 5.1.10 Recipient address has null MX");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Failed.class);
    assertThat(outcome.reply().enhanced()).hasToString("5.1.10");
  }

  @Test
  void anUnknownReplyCodeIsJudgedByItsFirstDigit() {
    server.on("RCPT", "254 2.1.5 Accepted in an unusual way");
    RecipientOutcome outcome = only(sendOnce(server, to("a@example.org")));
    assertThat(outcome).isInstanceOf(Delivered.class);
  }

  @Test
  void aMalformedReplyDefersEveryRecipientAndBreaksTheSession() {
    server.on("MAIL", "2x0 what");
    try (SmtpConnection c = open(server)) {
      TransactionResult result = c.send(to("a@example.org"), Smtp.hello());
      RecipientOutcome outcome = only(result);
      assertThat(outcome).isInstanceOf(Deferred.class);
      assertThat(outcome.reply().enhanced()).hasToString("4.5.0");
      assertThat(outcome.reply().local()).isTrue();
      assertThat(result.connectionFailure()).isNotNull();
      assertThat(c.isReusable()).isFalse();
    }
  }
}
