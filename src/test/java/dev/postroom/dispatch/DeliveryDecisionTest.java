package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.postroom.dispatch.MailFixture.Rcpt;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What the dispatcher records for the replies of issue 13 items 1-4, as a user reads it. */
class DeliveryDecisionTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private final ManualClock clock = new ManualClock(Instant.now().plusSeconds(1));

  @BeforeEach
  void setUp() {
    mail.reset();
  }

  private void drain() throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher("d1", clock)) {
      d.runUntilIdle();
    }
  }

  @Test
  void a250ToDataIsRecordedDeferredAndNeverDelivered() throws Exception {
    try (ScriptedSmtpServer server = new ScriptedSmtpServer()) {
      server.on("DATA", "250 2.0.0 ok");
      mail.relay("main", "relay", server.port(), 1);
      long id = mail.send("ann@example.com", "No 354");

      drain();

      assertThat(mail.recipients(id))
          .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode, Rcpt::stage)
          .containsExactly(tuple("deferred", 451, "4.5.0", "data"));
      assertThat(mail.mail(id).status()).isEqualTo("retrying");
      assertThat(mail.events(id)).doesNotContain("delivered", "sent");
      assertThat(server.sessions().get(0).messages()).isEmpty();
    }
  }

  @Test
  void anEnhancedCodeOfTheWrongClassIsRecordedAsTheClassDefault() throws Exception {
    try (RecordingSmtpServer smtp = RecordingSmtpServer.start()) {
      smtp.rcptRule(a -> "550 4.1.1 user unknown");
      mail.relay("main", "relay", smtp.port(), 1);
      long id = mail.send("ann@example.com", "Mismatch");

      drain();

      assertThat(mail.recipients(id))
          .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
          .containsExactly(tuple("failed", 550, "5.0.0"));
    }
  }

  @Test
  void a521GreetingFromTheLastRelayFailsTheRecipientsPermanently() throws Exception {
    try (ScriptedSmtpServer server = new ScriptedSmtpServer()) {
      server.on("GREETING", "521 5.3.2 this host does not accept mail");
      mail.relay("main", "relay", server.port(), 1);
      long id = mail.send("ann@example.com", "No mail here");

      drain();

      assertThat(mail.recipients(id))
          .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
          .containsExactly(tuple("failed", 521, "5.3.2"));
      assertThat(mail.mail(id).status()).isEqualTo("failed");
    }
  }

  @Test
  void a556GreetingFromTheFirstRelayFailsOverToTheNextOne() throws Exception {
    try (ScriptedSmtpServer first = new ScriptedSmtpServer();
        RecordingSmtpServer second = RecordingSmtpServer.start()) {
      first.on("GREETING", "556 5.1.10 no mail for this domain");
      mail.relay("main", "first", first.port(), 1);
      mail.relay("main", "second", second.port(), 2);
      long id = mail.send("ann@example.com", "Failover");

      drain();

      assertThat(mail.recipients(id)).extracting(Rcpt::status).containsExactly("delivered");
      assertThat(second.deliveriesTo("ann@example.com")).isEqualTo(1);
      assertThat(mail.events(id)).contains("failover", "delivered", "sent");
    }
  }
}
