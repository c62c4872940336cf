package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.hello;
import static dev.postroom.smtp.Smtp.message;
import static dev.postroom.smtp.Smtp.open;
import static dev.postroom.smtp.Smtp.sendOnce;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.smtp.RecipientOutcome.Deferred;
import dev.postroom.smtp.RecipientOutcome.Delivered;
import dev.postroom.smtp.RecipientOutcome.Failed;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** MAIL/RCPT/DATA on the wire: pipelining, parameters, local checks, per-recipient outcomes. */
class TransactionTest {
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

  private List<String> transactionCommands() {
    return server.session().commands().stream()
        .filter(c -> !c.startsWith("EHLO") && !c.equals("QUIT"))
        .toList();
  }

  @Test
  void withPipeliningMailEveryRcptAndDataGoOutInOneWrite() {
    server.advertise("PIPELINING");
    sendOnce(server, to("a@example.org", "b@example.org"));
    assertThat(server.session().chunks())
        .contains(
            "MAIL FROM:<sender@example.com>\r\n"
                + "RCPT TO:<a@example.org>\r\n"
                + "RCPT TO:<b@example.org>\r\n"
                + "DATA\r\n");
  }

  @Test
  void withoutPipeliningEachCommandWaitsForItsReply() {
    server.advertise("8BITMIME");
    sendOnce(server, to("a@example.org", "b@example.org"));
    assertThat(server.session().chunks())
        .contains(
            "MAIL FROM:<sender@example.com>\r\n",
            "RCPT TO:<a@example.org>\r\n",
            "RCPT TO:<b@example.org>\r\n",
            "DATA\r\n");
  }

  @Test
  void dotStuffingDoublesLeadingDotsAndNormalisesLineEndingsOnTheWire() {
    try (SmtpConnection c = open(server)) {
      c.send(to("a@example.org"), message(".hidden\r\n.\r\nbare\nlf\rcr\r\n..two\r\nend"));
    }
    String data = new String(server.session().messages().get(0), StandardCharsets.ISO_8859_1);
    assertThat(data).isEqualTo("..hidden\r\n..\r\nbare\r\nlf\r\ncr\r\n...two\r\nend\r\n");
    assertThat(server.session().received()).endsWith("end\r\n.\r\nQUIT\r\n");
  }

  @Test
  void bareLineFeedDotsNeverEndTheDataEarly() {
    TransactionResult result;
    try (SmtpConnection c = open(server)) {
      result = c.send(to("a@example.org"), message("a\n.\nMAIL FROM:<evil@x>\r.\rz"));
    }
    assertThat(result.allDelivered()).isTrue();
    String data = new String(server.session().messages().get(0), StandardCharsets.ISO_8859_1);
    assertThat(data).isEqualTo("a\r\n..\r\nMAIL FROM:<evil@x>\r\n..\r\nz\r\n");
    assertThat(server.session().commands()).doesNotContain("MAIL FROM:<evil@x>");
  }

  @Test
  void aLineOf1000OctetsIsRefusedBeforeMail() {
    String body = "Subject: x\r\n\r\n" + "y".repeat(1000) + "\r\n";
    TransactionResult result;
    try (SmtpConnection c = open(server)) {
      result = c.send(to("a@example.org"), message(body));
      assertThat(c.isReusable()).isTrue();
    }
    RecipientOutcome o = result.outcomes().get(0);
    assertThat(o).isInstanceOf(Failed.class);
    assertThat(o.reply().enhanced()).hasToString("5.6.0");
    assertThat(o.reply().local()).isTrue();
    assertThat(transactionCommands()).isEmpty();
  }

  @Test
  void aLineOf999OctetsIsRefusedBeforeMail() {
    // 999 + CRLF = 1,001 octets: one over RFC 5321's 1,000 (the boundary 998/1000 never tried)
    String body = "Subject: x\r\n\r\n" + "y".repeat(999) + "\r\n";
    TransactionResult result;
    try (SmtpConnection c = open(server)) {
      result = c.send(to("a@example.org"), message(body));
    }
    assertThat(result.outcomes()).hasSize(1);
    assertThat(result.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(result.outcomes().get(0).reply().enhanced()).hasToString("5.6.0");
    assertThat(transactionCommands()).isEmpty();
  }

  @Test
  void aLineOf998OctetsIsSent() {
    String body = "Subject: x\r\n\r\n" + "y".repeat(998) + "\r\n";
    try (SmtpConnection c = open(server)) {
      assertThat(c.send(to("a@example.org"), message(body)).allDelivered()).isTrue();
    }
    assertThat(server.session().messages()).hasSize(1);
    assertThat(new String(server.session().messages().get(0), StandardCharsets.ISO_8859_1))
        .contains("y".repeat(998) + "\r\n");
  }

  @Test
  void aMessageOverTheAdvertisedSizeIsRefusedLocally() {
    server.advertise("SIZE 100");
    TransactionResult result;
    try (SmtpConnection c = open(server)) {
      result = c.send(to("a@example.org"), message("x".repeat(101)));
    }
    assertThat(result.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(result.outcomes().get(0).reply().enhanced()).hasToString("5.3.4");
    assertThat(transactionCommands()).isEmpty();
  }

  @Test
  void sizeIsDeclaredWhenAdvertised() {
    server.advertise("SIZE 100000");
    sendOnce(server, to("a@example.org"));
    assertThat(transactionCommands().get(0))
        .isEqualTo("MAIL FROM:<sender@example.com> SIZE=" + hello().size());
  }

  @Test
  void eightBitContentAsksForBody8BitMimeWhenAdvertised() {
    server.advertise("8BITMIME");
    try (SmtpConnection c = open(server)) {
      assertThat(c.send(to("a@example.org"), message("Subject: x\r\n\r\nGrüße\r\n")).allDelivered())
          .isTrue();
    }
    assertThat(transactionCommands().get(0))
        .isEqualTo("MAIL FROM:<sender@example.com> BODY=8BITMIME");
  }

  @Test
  void sevenBitContentNeverAsksForBody8BitMime() {
    server.advertise("8BITMIME", "SMTPUTF8");
    sendOnce(server, to("a@example.org"));
    assertThat(transactionCommands().get(0)).isEqualTo("MAIL FROM:<sender@example.com>");
  }

  @Test
  void eightBitContentWithout8BitMimeIsRefusedLocally() {
    server.advertise("PIPELINING");
    TransactionResult result;
    try (SmtpConnection c = open(server)) {
      result = c.send(to("a@example.org"), message("Subject: x\r\n\r\nGrüße\r\n"));
    }
    assertThat(result.outcomes().get(0).reply().enhanced()).hasToString("5.6.3");
    assertThat(transactionCommands()).isEmpty();
  }

  @Test
  void aNonAsciiRecipientAsksForSmtpUtf8WhenAdvertised() {
    server.advertise("SMTPUTF8", "8BITMIME");
    TransactionResult result = sendOnce(server, to("jürgen@example.de"));
    assertThat(result.allDelivered()).isTrue();
    assertThat(transactionCommands().get(0)).isEqualTo("MAIL FROM:<sender@example.com> SMTPUTF8");
    assertThat(transactionCommands().get(1)).isEqualTo("RCPT TO:<jürgen@example.de>");
  }

  @Test
  void aNonAsciiRecipientWithoutSmtpUtf8FailsAloneBeforeRcpt() {
    server.advertise("8BITMIME");
    TransactionResult result = sendOnce(server, to("jürgen@example.de", "a@example.org"));
    assertThat(result.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(result.outcomes().get(0).reply().enhanced()).hasToString("5.6.7");
    assertThat(result.outcomes().get(1)).isInstanceOf(Delivered.class);
    assertThat(transactionCommands()).doesNotContain("RCPT TO:<jürgen@example.de>");
  }

  @Test
  void dsnParametersAreSentOnlyWhenDsnIsAdvertised() {
    DsnRequest dsn =
        new DsnRequest(
            EnumSet.of(DsnRequest.Notify.FAILURE, DsnRequest.Notify.DELAY),
            DsnRequest.Ret.HDRS,
            "id+1=2");
    Envelope envelope = new Envelope("s@example.com", List.of("a@example.org"), dsn);
    server.advertise("DSN");
    sendOnce(server, envelope);
    assertThat(transactionCommands().subList(0, 2))
        .containsExactly(
            "MAIL FROM:<s@example.com> RET=HDRS ENVID=id+2B1+3D2",
            "RCPT TO:<a@example.org> NOTIFY=DELAY,FAILURE ORCPT=rfc822;a@example.org");
  }

  @Test
  void dsnParametersAreLeftOutWhenDsnIsNotAdvertised() throws Exception {
    DsnRequest dsn = new DsnRequest(EnumSet.of(DsnRequest.Notify.NEVER), DsnRequest.Ret.FULL, "x");
    server.advertise("PIPELINING");
    sendOnce(server, new Envelope("s@example.com", List.of("a@example.org"), dsn));
    assertThat(transactionCommands().subList(0, 2))
        .containsExactly("MAIL FROM:<s@example.com>", "RCPT TO:<a@example.org>");
  }

  @Test
  void recipientsAcceptedRefusedAndDeferredEachGetTheirOwnOutcome() {
    server.advertise("PIPELINING");
    server.on("RCPT", "250 2.1.5 Ok", "550 5.1.1 No such user", "450 4.2.1 Try later");
    TransactionResult result =
        sendOnce(server, to("ok@example.org", "gone@example.org", "busy@example.org"));
    assertThat(result.outcomes().get(0)).isInstanceOf(Delivered.class);
    assertThat(result.outcomes().get(0).stage()).isEqualTo(Stage.DATA_END);
    assertThat(result.outcomes().get(1)).isInstanceOf(Failed.class);
    assertThat(result.outcomes().get(1).stage()).isEqualTo(Stage.RCPT);
    assertThat(result.outcomes().get(2)).isInstanceOf(Deferred.class);
    assertThat(result.outcomes().get(2).stage()).isEqualTo(Stage.RCPT);
    assertThat(server.session().messages()).hasSize(1);
  }

  @Test
  void noAcceptedRecipientWithoutPipeliningMeansNoDataAndAReset() {
    server.advertise();
    server.on("RCPT", "550 5.1.1 No", "550 5.1.1 No");
    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));
    assertThat(result.deliveredCount()).isZero();
    assertThat(transactionCommands()).doesNotContain("DATA").contains("RSET");
  }

  @Test
  void noAcceptedRecipientWithPipeliningGetsDataRefusedAndDeliversNothing() {
    server.advertise("PIPELINING");
    server.on("RCPT", "550 5.1.1 No");
    TransactionResult result = sendOnce(server, to("a@example.org"));
    assertThat(result.outcomes()).hasSize(1);
    assertThat(result.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(result.outcomes().get(0).stage()).isEqualTo(Stage.RCPT);
    assertThat(result.outcomes().get(0).reply().code()).isEqualTo(550);
    assertThat(server.session().messages()).isEmpty();
    assertThat(transactionCommands()).contains("DATA", "RSET");
  }

  @Test
  void aServerAnswering354AfterRefusingEveryRcptGetsAnEmptyDataThatDeliversNothing() {
    server.lenient("a broken server says 354 although it refused every RCPT (RFC 2920 says 554)");
    server.advertise("PIPELINING");
    server.on("RCPT", "550 5.1.1 No");
    TransactionResult result = sendOnce(server, to("a@example.org"));
    assertThat(result.outcomes()).hasSize(1);
    assertThat(result.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(server.session().messages()).containsExactly(new byte[0]);
    assertThat(transactionCommands()).contains("RSET");
  }

  @Test
  void a452ToRcptSendsTheRestInASecondTransactionOnTheSameConnection() {
    server.advertise("PIPELINING");
    server.on("RCPT", "250 2.1.5 Ok", "452 4.5.3 Too many recipients", "250 2.1.5 Ok");
    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));
    assertThat(result.allDelivered()).isTrue();
    assertThat(server.sessions()).hasSize(1);
    assertThat(server.session().messages()).hasSize(2);
    assertThat(transactionCommands())
        .containsSubsequence(
            "RCPT TO:<a@example.org>",
            "RCPT TO:<b@example.org>",
            "DATA",
            "MAIL FROM:<sender@example.com>",
            "RCPT TO:<b@example.org>",
            "DATA");
  }

  @Test
  void a552ToRcptIsTreatedLikeA452() {
    server.on("RCPT", "250 2.1.5 Ok", "552 5.5.3 Too many recipients", "250 2.1.5 Ok");
    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));
    assertThat(result.allDelivered()).isTrue();
    assertThat(server.session().messages()).hasSize(2);
  }

  @Test
  void recipientsBeyondTheConfiguredMaximumGoIntoFurtherTransactions() {
    SmtpSettings settings = Smtp.settings().withMaxRecipientsPerTransaction(2);
    try (SmtpConnection c = SmtpConnection.open(Smtp.plain(server), settings)) {
      TransactionResult result =
          c.send(to("a@example.org", "b@example.org", "c@example.org"), hello());
      assertThat(result.allDelivered()).isTrue();
    }
    assertThat(server.session().messages()).hasSize(2);
    assertThat(transactionCommands().stream().filter(c -> c.startsWith("MAIL"))).hasSize(2);
  }

  @Test
  void twoMessagesGoOverOneSession() {
    try (SmtpConnection c = open(server)) {
      assertThat(c.send(to("a@example.org"), hello()).allDelivered()).isTrue();
      assertThat(c.send(to("b@example.org"), hello()).allDelivered()).isTrue();
    }
    assertThat(server.sessions()).hasSize(1);
    assertThat(server.session().messages()).hasSize(2);
  }

  @Test
  void theNullReversePathIsSentAsEmptyBrackets() {
    sendOnce(server, new Envelope("", List.of("a@example.org")));
    assertThat(transactionCommands().get(0)).startsWith("MAIL FROM:<>");
  }

  @Test
  void eightBitContentAsksForBody8BitMimeEvenWhenItsFlagSaysOtherwise() {
    byte[] bytes = "Subject: x\r\n\r\nGrüße\r\n".getBytes(StandardCharsets.UTF_8);
    MessageContent unflagged =
        new MessageContent() {
          @Override
          public long size() {
            return bytes.length;
          }

          @Override
          public boolean eightBit() {
            return false;
          }

          @Override
          public void writeTo(java.io.OutputStream out) throws java.io.IOException {
            out.write(bytes);
          }
        };
    server.advertise("8BITMIME");
    try (SmtpConnection c = open(server)) {
      assertThat(c.send(to("a@example.org"), unflagged).allDelivered()).isTrue();
    }
    assertThat(transactionCommands().get(0))
        .isEqualTo("MAIL FROM:<sender@example.com> BODY=8BITMIME");
  }

  @Test
  void aRefusedPipelinedMailIsTheCauseRecordedNotTheFollowing503s() {
    server.advertise("PIPELINING");
    server.on("MAIL", "550 5.7.1 Sender rejected");
    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));
    assertThat(transactionCommands())
        .as("the strict server answered the pipelined RCPTs and DATA with 503")
        .containsSubsequence("RCPT TO:<a@example.org>", "RCPT TO:<b@example.org>", "DATA");
    assertThat(result.outcomes())
        .hasSize(2)
        .allSatisfy(o -> {
          assertThat(o).isInstanceOf(Failed.class);
          assertThat(o.stage()).isEqualTo(Stage.MAIL);
          assertThat(o.reply().code()).isEqualTo(550);
        });
    assertThat(server.session().messages()).isEmpty();
  }

  @Test
  void a552ToEveryRcptFailsThem() {
    server.on("RCPT", "552 5.2.2 Mailbox full");
    TransactionResult result = sendOnce(server, to("a@example.org"));
    assertThat(result.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(result.outcomes().get(0).stage()).isEqualTo(Stage.RCPT);
    assertThat(server.session().messages()).isEmpty();
  }
}
