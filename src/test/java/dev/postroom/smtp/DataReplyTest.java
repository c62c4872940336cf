package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.open;
import static dev.postroom.smtp.Smtp.sendOnce;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.smtp.RecipientOutcome.Deferred;
import dev.postroom.smtp.RecipientOutcome.Delivered;
import dev.postroom.smtp.RecipientOutcome.Failed;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Only the reply to the final "." delivers (issue 13 item 1), odd but well-formed codes are judged
 * by their first digit and a broken RCPT reply affects only its recipient (item 2), an enhanced
 * code of the wrong class is ignored (item 3). Each asserts the exact bytes the server received.
 */
class DataReplyTest {
  private static final String EHLO = "EHLO client.example\r\n";
  private static final String MAIL = "MAIL FROM:<sender@example.com> SIZE=23\r\n";

  private ScriptedSmtpServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedSmtpServer();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private String received() throws InterruptedException {
    server.sessions().get(0).awaitEnd(2_000);
    return server.sessions().get(0).received();
  }

  @Test
  void a250ToPipelinedDataIsNeverADeliveryAndNoContentIsSent() throws Exception {
    server.advertise("PIPELINING", "SIZE 10000000");
    server.on("DATA", "250 2.0.0 ok");

    TransactionResult result = sendOnce(server, to("a@example.org"));

    RecipientOutcome o = result.outcomes().get(0);
    assertThat(o).isInstanceOf(Deferred.class);
    assertThat(o.stage()).isEqualTo(Stage.DATA);
    assertThat(o.reply().code()).isEqualTo(451);
    assertThat(o.reply().text()).contains("250 2.0.0 ok").contains("354");
    assertThat(received())
        .isEqualTo(EHLO + MAIL + "RCPT TO:<a@example.org>\r\nDATA\r\n" + "RSET\r\n" + "QUIT\r\n");
  }

  @Test
  void a250ToLockStepDataIsNeverADeliveryAndNoContentIsSent() throws Exception {
    server.advertise("SIZE 10000000");
    server.on("DATA", "250 2.0.0 ok");

    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));

    assertThat(result.outcomes()).allSatisfy(o -> assertThat(o).isInstanceOf(Deferred.class));
    assertThat(result.outcomes()).allSatisfy(o -> assertThat(o.stage()).isEqualTo(Stage.DATA));
    assertThat(received())
        .isEqualTo(
            EHLO
                + MAIL
                + "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
                + "RSET\r\nQUIT\r\n");
  }

  @Test
  void a250ToDataAfterA452SplitDefersOnlyTheSecondTransaction() throws Exception {
    server.advertise("PIPELINING", "SIZE 10000000");
    server.on("RCPT", "250 2.1.5 ok", "452 4.5.3 too many recipients");
    server.on("DATA", "354 go ahead", "250 2.0.0 ok");

    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));

    assertThat(result.outcomes().get(0)).isInstanceOf(Delivered.class);
    assertThat(result.outcomes().get(1)).isInstanceOf(Deferred.class);
    assertThat(result.outcomes().get(1).stage()).isEqualTo(Stage.DATA);
    assertThat(server.sessions().get(0).messages()).hasSize(1);
    assertThat(received())
        .endsWith(".\r\n" + MAIL + "RCPT TO:<b@example.org>\r\nDATA\r\n" + "RSET\r\n" + "QUIT\r\n");
  }

  @Test
  void aConnectionLostAfterAcceptedRecipientsIsNeverADelivery() throws Exception {
    server.advertise("PIPELINING", "SIZE 10000000");
    server.on("DATA", ScriptedSmtpServer.DROP);

    TransactionResult result = sendOnce(server, to("a@example.org", "b@example.org"));

    assertThat(result.outcomes()).allSatisfy(o -> assertThat(o).isInstanceOf(Deferred.class));
    assertThat(result.cutOff()).hasSize(2);
    assertThat(result.connectionFailure()).isNotNull();
    assertThat(received())
        .isEqualTo(EHLO + MAIL + "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  }

  @Test
  void a4xxToDataDefersAndA5xxFailsTheAcceptedRecipients() throws Exception {
    server.advertise("PIPELINING", "SIZE 10000000");
    server.on("DATA", "451 4.3.0 try later", "554 5.7.1 no");

    TransactionResult first;
    TransactionResult second;
    try (SmtpConnection c = open(server)) {
      first = c.send(to("a@example.org"), Smtp.hello());
      second = c.send(to("b@example.org"), Smtp.hello());
    }

    assertThat(first.outcomes().get(0)).isInstanceOf(Deferred.class);
    assertThat(first.outcomes().get(0).reply().code()).isEqualTo(451);
    assertThat(second.outcomes().get(0)).isInstanceOf(Failed.class);
    assertThat(second.outcomes().get(0).reply().code()).isEqualTo(554);
    assertThat(server.sessions().get(0).messages()).isEmpty();
    assertThat(received())
        .isEqualTo(
            EHLO
                + MAIL
                + "RCPT TO:<a@example.org>\r\nDATA\r\nRSET\r\n"
                + MAIL
                + "RCPT TO:<b@example.org>\r\nDATA\r\nRSET\r\nQUIT\r\n");
  }

  @Test
  void outOfRangeCodesAreJudgedByTheirFirstDigitKeepingCodeAndText() throws Exception {
    server.advertise("PIPELINING", "SIZE 10000000");
    server.on("RCPT", "254 accepted oddly", "477 4.2.0 odd wait", "599 odd refusal");

    TransactionResult result =
        sendOnce(server, to("a@example.org", "b@example.org", "c@example.org"));

    RecipientOutcome a = result.outcomes().get(0);
    RecipientOutcome b = result.outcomes().get(1);
    RecipientOutcome c = result.outcomes().get(2);
    assertThat(a).isInstanceOf(Delivered.class);
    assertThat(b).isInstanceOf(Deferred.class);
    assertThat(b.reply().code()).isEqualTo(477);
    assertThat(b.reply().enhanced()).hasToString("4.2.0");
    assertThat(b.reply().text()).isEqualTo("odd wait");
    assertThat(c).isInstanceOf(Failed.class);
    assertThat(c.reply().code()).isEqualTo(599);
    assertThat(c.reply().text()).isEqualTo("odd refusal");
    assertThat(server.sessions().get(0).messages()).hasSize(1);
    assertThat(received())
        .isEqualTo(
            EHLO
                + MAIL
                + "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
                + "RCPT TO:<c@example.org>\r\nDATA\r\n"
                + "Subject: hi\r\n\r\nHello.\r\n.\r\nQUIT\r\n");
  }

  @Test
  void aMalformedRcptReplyDefersOnlyItsRecipientWhileTheStreamStaysAligned() throws Exception {
    server.advertise("PIPELINING", "SIZE 10000000");
    server.on("RCPT", "250 2.1.5 ok", "hello there", "250 2.1.5 ok");

    TransactionResult result =
        sendOnce(server, to("a@example.org", "b@example.org", "c@example.org"));

    assertThat(result.outcomes().get(0)).isInstanceOf(Delivered.class);
    assertThat(result.outcomes().get(2)).isInstanceOf(Delivered.class);
    RecipientOutcome b = result.outcomes().get(1);
    assertThat(b).isInstanceOf(Deferred.class);
    assertThat(b.stage()).isEqualTo(Stage.RCPT);
    assertThat(b.reply().enhanced()).hasToString("4.5.0");
    assertThat(b.reply().text()).contains("\"hello there\"");
    assertThat(result.connectionFailure()).isNull();
    assertThat(result.cutOff()).isEmpty();
    assertThat(received()).contains("Subject: hi\r\n\r\nHello.\r\n.\r\n");
  }

  @Test
  void anEnhancedCodeOfTheWrongClassIsIgnoredForTheClassDefault() {
    server.on("RCPT", "550 4.1.1 user unknown");

    RecipientOutcome o = sendOnce(server, to("a@example.org")).outcomes().get(0);

    assertThat(o).isInstanceOf(Failed.class);
    assertThat(o.reply().enhanced()).isNull();
    assertThat(o.reply().enhancedOrDefault()).hasToString("5.0.0");
  }
}
