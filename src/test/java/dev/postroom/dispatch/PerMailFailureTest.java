package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.postroom.dispatch.MailFixture.Rcpt;
import dev.postroom.outbox.ClaimStore;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every claimed mail ends its attempt with a recorded result, never with its lease running out
 * (issue 12 findings 2, 3, 5 and 9, dispatcher side).
 */
class PerMailFailureTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;
  private ManualClock clock;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    mail.jdbi.useHandle(h -> h.execute("DROP TRIGGER IF EXISTS refuse_reports ON mail.outbox"));
    smtp = RecordingSmtpServer.start();
    clock = new ManualClock(Instant.now().plusSeconds(1));
  }

  @AfterEach
  void tearDown() throws IOException {
    smtp.close();
  }

  private void drain() throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher("d1", clock)) {
      d.runUntilIdle();
    }
  }

  @Test
  void anAddressSmtpCannotCarryFailsAloneAndTheGoodRecipientIsDeliveredOnce() throws Exception {
    mail.relay("main", "relay", smtp.port(), 1);
    // mail.send refuses such a local part (MA002); a row from before that rule must still end
    long id =
        mail.sendWithLegacyAddress(
            "good@example.com; odd@example.com", "Odd address", "odd@example.com",
            "\"a b\"@example.com");

    drain();
    clock.advance(Duration.ofMinutes(10));
    drain();

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode, Rcpt::stage)
        .containsExactly(
            tuple("delivered", 250, "2.0.0", "data_end"), tuple("failed", 553, "5.1.3", "address"));
    assertThat(mail.mail(id).status()).isEqualTo("partially_sent");
    assertThat(mail.mail(id).attempts()).isEqualTo(1);
    assertThat(smtp.deliveriesTo("good@example.com")).isEqualTo(1);
  }

  @Test
  void anAccountWithAUsernameButNoPasswordFailsOverAndTheReasonIsRecorded() throws Exception {
    mail.relay("main", "broken", smtp.port(), 1);
    mail.relay("main", "fine", smtp.port(), 2);
    mail.jdbi.useHandle(h ->
        h.execute(
            "UPDATE mail.account SET username = 'app', password = NULL WHERE name = 'broken'"));
    long id = mail.send("ann@example.com", "Failover on config");

    drain();

    assertThat(mail.recipients(id)).extracting(Rcpt::status).containsExactly("delivered");
    String why =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT reply_text FROM mail.event_log WHERE mail_id = :id"
                        + " AND event = 'failover' AND account_name = 'broken'")
                .bind("id", id)
                .mapTo(String.class)
                .one());
    assertThat(why).contains("account broken").contains("no password");
  }

  @Test
  void aBadHeloNameOnTheOnlyAccountDefersTheMailWithTheReason() throws Exception {
    mail.relay("main", "relay", smtp.port(), 1);
    mail.jdbi.useHandle(h -> h.execute("UPDATE mail.account SET helo_name = 'not a domain'"));
    long id = mail.send("ann@example.com", "Bad HELO");

    drain();

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
        .containsExactly(tuple("deferred", 451, "4.3.5"));
    assertThat(mail.mail(id).status()).isEqualTo("retrying");
    assertThat(mail.events(id)).contains("error", "retrying");
  }

  @Test
  void aMailWhoseLeaseRanOutThreeTimesWithoutAResultFailsAsPoisoned() throws Exception {
    mail.relay("main", "relay", smtp.port(), 1);
    long id = mail.send("ann@example.com", "Poison");
    ClaimStore claims = new ClaimStore(mail.jdbi);
    Instant t = clock.instant();
    for (int i = 1; i <= ClaimStore.POISON_AFTER; i++) {
      mail.makeDue(t);
      assertThat(claims.claim("ghost", 10, t, Duration.ofSeconds(5))).hasSize(1);
      t = t.plusSeconds(6);
      assertThat(claims.recoverExpiredLeases(t, "d1")).containsExactly(id);
      assertThat(mail.mail(id).status())
          .isEqualTo(i < ClaimStore.POISON_AFTER ? "retrying" : "failed");
    }

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
        .containsExactly(tuple("failed", 554, "5.3.0"));
    assertThat(mail.events(id)).endsWith("lease_expired", "poisoned");
    assertThat(smtp.deliveriesTo("ann@example.com")).isZero();
  }

  @Test
  void aMailWhoseLeaseRanOutAfterItsLifetimeExpiresInsteadOfComingBack() throws Exception {
    mail.relay("main", "relay", smtp.port(), 1);
    mail.configure("message_lifetime", "1 minute");
    long id = mail.send("ann@example.com", "Expired in flight");
    ClaimStore claims = new ClaimStore(mail.jdbi);
    assertThat(claims.claim("ghost", 10, clock.instant(), Duration.ofSeconds(5))).hasSize(1);

    claims.recoverExpiredLeases(clock.instant().plus(Duration.ofMinutes(2)), "d1");

    assertThat(mail.mail(id).status()).isEqualTo("failed");
    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::enhancedCode)
        .containsExactly(tuple("failed", "4.4.7"));
    assertThat(mail.events(id)).contains("lease_expired", "expired");
  }

  @Test
  void aNotificationThatCannotBeQueuedLeavesTheResultsIntact() throws Exception {
    mail.relay("main", "relay", smtp.port(), 1);
    mail.configure("notify_sender_on_failure", "true");
    mail.jdbi.useHandle(h -> {
      h.execute(
          "CREATE OR REPLACE FUNCTION pg_temp_refuse() RETURNS trigger LANGUAGE plpgsql AS"
              + " $$ BEGIN RAISE EXCEPTION 'reports are refused today'; END $$");
      h.execute(
          "CREATE TRIGGER refuse_reports BEFORE INSERT ON mail.outbox FOR EACH ROW"
              + " WHEN (NEW.report_for IS NOT NULL) EXECUTE FUNCTION pg_temp_refuse()");
    });
    smtp.rcptRule(a -> a.startsWith("bad") ? "550 5.1.1 no such user" : null);
    long id =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT mail.send(recipients => 'good@example.com; bad@example.com',"
                        + " subject => 'Notify', from_address => 'me@example.com')")
                .mapTo(Long.class)
                .one());

    drain();
    clock.advance(Duration.ofMinutes(10));
    drain();

    assertThat(mail.recipients(id)).extracting(Rcpt::status).containsExactly("delivered", "failed");
    assertThat(mail.mail(id).status()).isEqualTo("partially_sent");
    assertThat(mail.events(id)).contains("notification_failed").doesNotContain("lease_expired");
    assertThat(smtp.deliveriesTo("good@example.com")).isEqualTo(1);
  }
}
