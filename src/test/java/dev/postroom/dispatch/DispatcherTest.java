package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.dispatch.MailFixture.Mail;
import dev.postroom.dispatch.MailFixture.Rcpt;
import dev.postroom.outbox.ClaimStore;
import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryRecord;
import dev.postroom.outbox.DeliveryStore;
import dev.postroom.outbox.MailStatus;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One dispatcher against real PostgreSQL and a recording SMTP server. */
class DispatcherTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;
  private ManualClock clock;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
    clock = new ManualClock(Instant.now().plusSeconds(1));
  }

  @AfterEach
  void tearDown() throws IOException {
    smtp.close();
  }

  private void drain(String name) throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher(name, clock)) {
      d.runUntilIdle();
    }
  }

  @Test
  void eachRecipientGetsItsOwnOutcomeAndOnlyTheDeferredOneIsTriedAgain() throws Exception {
    smtp.rcptRule(a ->
        switch (a.substring(0, a.indexOf('@'))) {
          case "bad" -> "550 5.1.1 <bad@example.com>: no such user";
          case "later" -> "450 4.2.1 mailbox busy";
          default -> null;
        });
    long id = mail.send("good@example.com; bad@example.com, Later <later@example.com>", "Hi");

    drain("d1");

    assertThat(mail.recipients(id))
        .extracting(Rcpt::address, Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode, Rcpt::stage)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "good@example.com", "delivered", 250, "2.0.0", "data_end"),
            org.assertj.core.groups.Tuple.tuple("bad@example.com", "failed", 550, "5.1.1", "rcpt"),
            org.assertj.core.groups.Tuple.tuple(
                "later@example.com", "deferred", 450, "4.2.1", "rcpt"));
    Mail first = mail.mail(id);
    assertThat(first.status()).isEqualTo("retrying");
    assertThat(first.attempts()).isEqualTo(1);
    Duration wait = Duration.between(clock.instant(), first.nextAttemptAt().toInstant());
    assertThat(wait).isBetween(Duration.ofSeconds(50), Duration.ofSeconds(70));

    smtp.rcptRule(a -> a.startsWith("bad") ? "550 5.1.1 no such user" : null);
    clock.advance(Duration.ofMinutes(2));
    drain("d2");

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status)
        .containsExactly("delivered", "failed", "delivered");
    assertThat(smtp.deliveriesTo("good@example.com")).isEqualTo(1);
    assertThat(smtp.deliveriesTo("later@example.com")).isEqualTo(1);
    assertThat(smtp.deliveriesTo("bad@example.com")).isZero();
    Mail last = mail.mail(id);
    assertThat(last.status()).isEqualTo("partially_sent");
    assertThat(last.attempts()).isEqualTo(2);
    assertThat(last.sentAt()).isNotNull();
    assertThat(mail.events(id))
        .contains(
            "claimed",
            "connected",
            "delivered",
            "failed",
            "deferred",
            "retrying",
            "partially_sent");
  }

  @Test
  void aMailWhoseRecipientsAllAcceptIsSentInOneTransaction() throws Exception {
    long id = mail.send("a@example.com, b@example.org; c@example.net", "All good");

    drain("d1");

    assertThat(mail.mail(id).status()).isEqualTo("sent");
    assertThat(smtp.received()).hasSize(1);
    assertThat(smtp.received().get(0).recipients())
        .containsExactly("a@example.com", "b@example.org", "c@example.net");
    assertThat(smtp.received().get(0).data()).contains("Subject: All good");
  }

  @Test
  void tooManyRecipientsSendsTheRestInAnotherTransaction() throws Exception {
    smtp.rcptRule((a, index) -> index >= 2 ? "452 4.5.3 too many recipients" : null);
    long id = mail.send("r1@example.com; r2@example.com; r3@example.com; r4@example.com", "452");

    drain("d1");

    assertThat(mail.recipients(id)).extracting(Rcpt::status).containsOnly("delivered");
    assertThat(smtp.received()).hasSize(2);
    assertThat(mail.mail(id).status()).isEqualTo("sent");
  }

  @Test
  void aMailThatCannotBeDeliveredWithinItsLifetimeFailsKeepingTheLastReply() throws Exception {
    mail.configure("message_lifetime", "10 minutes");
    smtp.rcptRule(a -> "451 4.7.1 greylisted");
    long id = mail.send("grey@example.com", "Expiring");

    drain("d1");
    assertThat(mail.mail(id).status()).isEqualTo("retrying");

    clock.advance(Duration.ofMinutes(9));
    drain("d2");

    Mail m = mail.mail(id);
    assertThat(m.status()).isEqualTo("failed");
    assertThat(m.lastReplyCode()).isEqualTo(451);
    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("failed", 451, "4.7.1"));
    assertThat(mail.events(id)).contains("expired", "failed");
  }

  @Test
  void maxAttemptsEndsTheRetries() throws Exception {
    mail.configure("max_attempts", "1");
    smtp.rcptRule(a -> "450 4.2.1 busy");
    long id = mail.send("busy@example.com", "Once");

    drain("d1");

    assertThat(mail.mail(id).status()).isEqualTo("failed");
    assertThat(mail.recipients(id)).extracting(Rcpt::replyCode).containsExactly(450);
  }

  @Test
  void aDeadAccountFailsOverToTheNextOneOfTheProfile() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    mail.reset();
    mail.relay("main", "dead", deadPort, 1);
    mail.relay("main", "live", smtp.port(), 2);
    long id = mail.send("ann@example.com", "Failover");

    drain("d1");

    assertThat(mail.mail(id).status()).isEqualTo("sent");
    assertThat(smtp.deliveriesTo("ann@example.com")).isEqualTo(1);
    assertThat(mail.events(id)).contains("failover", "delivered");
    String sentVia =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT a.name FROM mail.outbox o JOIN mail.account a ON a.id = o.account_id"
                        + " WHERE o.id = :id")
                .bind("id", id)
                .mapTo(String.class)
                .one());
    assertThat(sentVia).isEqualTo("live");
  }

  @Test
  void aRefusingServerDefersTheMailWithTheGreetingReply() throws Exception {
    smtp.refuse(true);
    long id = mail.send("ann@example.com", "Refused");

    drain("d1");

    assertThat(mail.mail(id).status()).isEqualTo("retrying");
    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("deferred", 421));
  }

  @Test
  void aMailWhoseHolderVanishedIsTakenOverAndTheOldHolderWritesNothing() throws Exception {
    long id = mail.send("ann@example.com", "Orphan");
    ClaimStore claims = new ClaimStore(mail.jdbi);
    List<ClaimedMail> ghost = claims.claim("ghost", 10, clock.instant(), Duration.ofMinutes(5));
    assertThat(ghost).extracting(ClaimedMail::id).containsExactly(id);

    drain("d1");
    assertThat(mail.mail(id).status())
        .as("leased to the ghost: not claimable")
        .isEqualTo("sending");

    clock.advance(Duration.ofMinutes(6));
    try (Dispatcher d = mail.dispatcher("d2", clock)) {
      d.start();
      assertThat(d.recoverNow()).isEqualTo(1);
      d.runUntilIdle();
    }
    assertThat(mail.mail(id).status()).isEqualTo("sent");
    assertThat(mail.events(id)).contains("lease_expired");

    DeliveryStore ghostStore = new DeliveryStore(mail.jdbi, "ghost");
    long rid =
        mail.jdbi.withHandle(h ->
            h.createQuery("SELECT id FROM mail.recipient WHERE mail_id = :id")
                .bind("id", id)
                .mapTo(Long.class)
                .one());
    boolean held =
        ghostStore.record(
            new DeliveryRecord(
                ghost.get(0),
                clock.instant(),
                List.of(
                    new RecipientResult(
                        rid, RecipientStatus.FAILED, 550, "5.0.0", "late", "rcpt", "x", null)),
                List.of(),
                new DeliveryRecord.Finish(MailStatus.FAILED, null, null, 550, "5.0.0", "late")));
    assertThat(held).isFalse();
    assertThat(mail.mail(id).status()).isEqualTo("sent");
    assertThat(mail.recipients(id)).extracting(Rcpt::status).containsExactly("delivered");
  }

  @Test
  void aScheduledMailWaitsForItsTime() throws Exception {
    long id =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT mail.send(recipients => 'later@example.com', subject => 'Later',"
                        + " send_at => now() + interval '1 hour')")
                .mapTo(Long.class)
                .one());
    drain("d1");
    assertThat(mail.mail(id).status()).isEqualTo("queued");

    clock.advance(Duration.ofMinutes(61));
    drain("d2");
    assertThat(mail.mail(id).status()).isEqualTo("sent");
  }

  @Test
  void higherPriorityMailGoesFirst() throws Exception {
    long low = mail.send("low@example.com", "Low");
    long high =
        mail.jdbi.withHandle(h ->
            h.createQuery(
                    "SELECT mail.send(recipients => 'high@example.com', subject => 'High',"
                        + " priority => 10)")
                .mapTo(Long.class)
                .one());
    try (Dispatcher d =
        mail.dispatcher(
            DispatcherConfig.defaults("d1").withConcurrency(1).withBatchSize(1), clock)) {
      d.runUntilIdle();
    }
    assertThat(smtp.received())
        .extracting(r -> r.recipients().get(0))
        .containsExactly("high@example.com", "low@example.com");
    assertThat(mail.mail(low).status()).isEqualTo("sent");
    assertThat(mail.mail(high).status()).isEqualTo("sent");
  }
}
