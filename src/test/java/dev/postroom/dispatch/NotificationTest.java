package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.dispatch.MailFixture.Rcpt;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Delivery status notifications to the sender, and the suppression list (issue 7). */
class NotificationTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;
  private ManualClock clock;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
    mail.configure("notify_sender_on_failure", "true");
    clock = new ManualClock(Instant.now().plusSeconds(1));
    smtp.rcptRule(a -> a.startsWith("bad") ? "550 5.1.1 <" + a + ">: user unknown" : null);
  }

  @AfterEach
  void tearDown() throws IOException {
    smtp.close();
  }

  /**
   * Runs a dispatcher until idle, twice: a report is queued with the database's clock, which on a
   * slow machine can run ahead of the test clock caught up before the first pass; the second pass
   * (clock caught up again) sends it.
   */
  private void drain() throws InterruptedException {
    for (int pass = 0; pass < 2; pass++) {
      clock.catchUp(Duration.ofSeconds(1));
      try (Dispatcher d = mail.dispatcher("d", clock)) {
        d.runUntilIdle();
      }
    }
  }

  private long reportFor(long id) {
    return mail.jdbi.withHandle(h ->
        h.createQuery("SELECT id FROM mail.outbox WHERE report_for = :id")
            .bind("id", id)
            .mapTo(Long.class)
            .one());
  }

  @Test
  void aFailedRecipientSendsTheSenderOneReportWithNullReversePath() throws Exception {
    long id = mail.send("good@example.com; bad@example.com", "Quarterly report");

    drain();

    long dsn = reportFor(id);
    assertThat(mail.mail(dsn).status()).isEqualTo("sent");
    List<RecordingSmtpServer.Received> toSender =
        smtp.received().stream().filter(r -> r.recipients().contains("app@postroom.test")).toList();
    assertThat(toSender).hasSize(1);
    assertThat(toSender.get(0).from()).as("null reverse-path").isEmpty();

    Message report =
        new DefaultMessageBuilder()
            .parseMessage(
                new ByteArrayInputStream(toSender.get(0).data().getBytes(StandardCharsets.UTF_8)));
    assertThat(report.getMimeType()).isEqualTo("multipart/report");
    Multipart parts = (Multipart) report.getBody();
    String status =
        new String(
            ((SingleBody) parts.getBodyParts().get(1).getBody()).getInputStream().readAllBytes(),
            StandardCharsets.US_ASCII);
    assertThat(status)
        .contains("Final-Recipient: rfc822; bad@example.com")
        .contains("Action: failed")
        .contains("Status: 5.1.1")
        .contains("Diagnostic-Code: smtp; 550")
        .doesNotContain("good@example.com");
    assertThat(mail.events(id)).contains("notification_queued");
  }

  @Test
  void aReportThatFailsItselfCreatesNoFurtherReport() throws Exception {
    mail.jdbi.useHandle(
        h -> h.execute("UPDATE mail.account SET from_address = 'bad-sender@postroom.test'"));
    long id = mail.send("bad@example.com", "Nobody home");

    drain();

    long dsn = reportFor(id);
    assertThat(mail.mail(dsn).status()).isEqualTo("failed");
    long reports =
        mail.jdbi.withHandle(h ->
            h.createQuery("SELECT count(*) FROM mail.outbox WHERE report_for IS NOT NULL")
                .mapTo(Long.class)
                .one());
    assertThat(reports).isEqualTo(1);
  }

  @Test
  void anExpiredMailReportsStatus447() throws Exception {
    mail.configure("message_lifetime", "10 minutes");
    smtp.rcptRule(a -> a.startsWith("grey") ? "451 4.7.1 try later" : null);
    long id = mail.send("grey@example.com", "Never arrives");
    drain();
    clock.advance(Duration.ofMinutes(9));
    smtp.rcptRule(a -> a.startsWith("grey") ? "451 4.7.1 try later" : null);
    drain();

    assertThat(mail.mail(id).status()).isEqualTo("failed");
    long dsn = reportFor(id);
    assertThat(mail.mail(dsn).status()).isEqualTo("sent");
    String data =
        smtp.received().stream().filter(r -> r.from().isEmpty()).findFirst().orElseThrow().data();
    assertThat(data).contains("Action: failed").contains("Status: 4.4.7").contains("451 4.7.1");
  }

  @Test
  void aHardBounceSuppressesTheAddressAndLaterSendsSkipIt() throws Exception {
    mail.configure("notify_sender_on_failure", "false");
    long first = mail.send("bad@example.com", "First");
    drain();
    assertThat(mail.recipients(first)).extracting(Rcpt::status).containsExactly("failed");
    int connectionsBefore = smtp.connections();

    long second = mail.send("bad@example.com", "Second");
    assertThat(mail.recipients(second)).extracting(Rcpt::status).containsExactly("suppressed");
    drain();
    assertThat(smtp.deliveriesTo("bad@example.com")).isZero();
    assertThat(smtp.connections()).as("no SMTP attempt").isEqualTo(connectionsBefore);

    mail.jdbi.withHandle(
        h -> h.createQuery("SELECT mail.unsuppress('bad@example.com')").mapTo(Boolean.class).one());
    smtp.rcptRule(a -> null);
    long third = mail.send("bad@example.com", "Third");
    drain();
    assertThat(mail.recipients(third)).extracting(Rcpt::status).containsExactly("delivered");
  }

  @Test
  void aMailDeferredLongerThanTheDelaySettingSendsOneStillTryingReport() throws Exception {
    mail.configure("notify_sender_on_delay", "1 minute");
    smtp.rcptRule(a -> a.startsWith("grey") ? "451 4.7.1 greylisted, try again later" : null);
    long id = mail.send("grey@example.com", "Slow");
    drain();
    assertThat(mail.events(id)).doesNotContain("notification_queued");

    clock.advance(Duration.ofMinutes(2));
    drain();
    clock.advance(Duration.ofMinutes(10));
    drain();

    List<RecordingSmtpServer.Received> reports =
        smtp.received().stream().filter(r -> r.from().isEmpty()).toList();
    assertThat(reports).hasSize(1);
    assertThat(reports.get(0).data())
        .contains("Subject: Delayed Mail (still being retried)")
        .contains("Action: delayed")
        .contains("Status: 4.7.1")
        .contains("Will-Retry-Until:");
    assertThat(mail.mail(id).status()).isEqualTo("retrying");
  }
}
