package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.DeliveryRecord;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.MailStatus;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import dev.postroom.smtp.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The ledger decides a mail's end from deliveries alone: no sockets, no database. */
class LedgerTest {
  private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
  private static final DeliveryAccount ACCOUNT =
      new DeliveryAccount(
          7,
          "relay",
          "smtp.example",
          587,
          "none",
          true,
          null,
          null,
          null,
          null,
          "a@example.com",
          null,
          null,
          null,
          "relay",
          4,
          null);
  private static final Reply OK = Reply.local(250, "2.0.0", "queued");
  private static final Reply BUSY = Reply.local(450, "4.2.1", "mailbox busy");
  private static final Reply UNKNOWN = Reply.local(550, "5.1.1", "no such user");

  private final DeliveryRecipient ann = recipient(1, RecipientStatus.PENDING);
  private final DeliveryRecipient bob = recipient(2, RecipientStatus.PENDING);
  private final DeliveryRecipient cid = recipient(3, RecipientStatus.DEFERRED);

  private static DeliveryRecipient recipient(long id, RecipientStatus status) {
    return new DeliveryRecipient(
        id, 100, "to", "r" + id + "@example.org", null, "example.org", status, 0);
  }

  private static ClaimedMail mail(int attempts, Instant expiresAt) {
    return new ClaimedMail(
        100,
        UUID.randomUUID(),
        attempts,
        1,
        "s",
        "b",
        "text",
        null,
        null,
        "normal",
        "normal",
        Map.of(),
        "<m@example.com>",
        NOW.minusSeconds(60),
        expiresAt,
        null,
        null,
        "sender");
  }

  private static RetryPolicy policy(Integer maxAttempts) {
    return new RetryPolicy(
        List.of(Duration.ofMinutes(1)), maxAttempts, 0.0, new SplittableRandom(1));
  }

  private static Delivery each(Object... pairs) {
    List<RecipientResult> results = new java.util.ArrayList<>();
    for (int i = 0; i < pairs.length; i += 3) {
      results.add(
          Delivery.result(
              (DeliveryRecipient) pairs[i],
              (RecipientStatus) pairs[i + 1],
              (Reply) pairs[i + 2],
              "rcpt",
              "smtp.example [192.0.2.1]",
              null));
    }
    return new Delivery(results, List.of(), List.of());
  }

  @Test
  void allDeliveredIsSentWithOneEventPerRecipientAndOneForTheMail() {
    Ledger l = new Ledger(mail(1, NOW.plusSeconds(3600)), List.of(ann, bob));
    l.apply(each(ann, RecipientStatus.DELIVERED, OK, bob, RecipientStatus.DELIVERED, OK), "relay");

    DeliveryRecord.Finish f = l.finish(NOW, policy(null), ACCOUNT);

    assertThat(f.status()).isEqualTo(MailStatus.SENT);
    assertThat(f.nextAttemptAt()).isNull();
    assertThat(f.accountId()).isEqualTo(7);
    assertThat(l.drain().events())
        .extracting(DeliveryEvent::event)
        .containsExactly(EventKind.DELIVERED, EventKind.DELIVERED, EventKind.SENT);
  }

  @Test
  void anOpenRecipientMeansARetryAtThePolicysTimeWithTheProblemAsLastReply() {
    Ledger l = new Ledger(mail(1, NOW.plusSeconds(3600)), List.of(ann, bob));
    l.apply(each(ann, RecipientStatus.DELIVERED, OK, bob, RecipientStatus.DEFERRED, BUSY), "relay");

    DeliveryRecord.Finish f = l.finish(NOW, policy(null), ACCOUNT);

    assertThat(f.status()).isEqualTo(MailStatus.RETRYING);
    assertThat(f.nextAttemptAt()).isEqualTo(NOW.plus(Duration.ofMinutes(1)));
    assertThat(f.lastReplyCode()).isEqualTo(450);
    assertThat(f.lastEnhancedCode()).isEqualTo("4.2.1");
    assertThat(l.open()).containsExactly(bob);
  }

  @Test
  void aDeliveredRecipientIsNeverChangedByALaterDelivery() {
    Ledger l = new Ledger(mail(1, null), List.of(ann));
    l.apply(each(ann, RecipientStatus.DELIVERED, OK), "relay");
    l.drain();
    l.apply(each(ann, RecipientStatus.FAILED, UNKNOWN), "relay");

    assertThat(l.count(RecipientStatus.DELIVERED)).isEqualTo(1);
    assertThat(l.drain().results()).isEmpty();
  }

  @Test
  void maxAttemptsFailsTheOpenRecipientsKeepingTheirLastReply() {
    Ledger l = new Ledger(mail(3, null), List.of(ann, bob));
    l.apply(each(ann, RecipientStatus.DELIVERED, OK, bob, RecipientStatus.DEFERRED, BUSY), "relay");

    DeliveryRecord.Finish f = l.finish(NOW, policy(3), ACCOUNT);

    assertThat(f.status()).isEqualTo(MailStatus.PARTIALLY_SENT);
    RecipientResult bobs =
        l.drain().results().stream().filter(r -> r.recipientId() == 2).findFirst().orElseThrow();
    assertThat(bobs.status()).isEqualTo(RecipientStatus.FAILED);
    assertThat(bobs.replyCode()).isEqualTo(450);
  }

  @Test
  void aMailPastItsLifetimeWithNoReplyFailsWithTheLifetimeCode() {
    Ledger l = new Ledger(mail(1, NOW.minusSeconds(1)), List.of(cid));
    l.giveUp("message lifetime ended before delivery");

    DeliveryRecord.Finish f = l.finish(NOW, policy(null), null);

    assertThat(f.status()).isEqualTo(MailStatus.FAILED);
    Ledger.Unwritten u = l.drain();
    assertThat(u.results())
        .singleElement()
        .satisfies(r -> {
          assertThat(r.status()).isEqualTo(RecipientStatus.FAILED);
          assertThat(r.enhancedCode()).isEqualTo("4.4.7");
        });
    assertThat(u.events())
        .extracting(DeliveryEvent::event)
        .containsExactly(EventKind.EXPIRED, EventKind.FAILED);
  }

  @Test
  void aRetryThatWouldFallAfterExpiryGivesUpInstead() {
    Ledger l = new Ledger(mail(1, NOW.plusSeconds(30)), List.of(ann));
    l.apply(each(ann, RecipientStatus.DEFERRED, BUSY), "relay");

    assertThat(l.finish(NOW, policy(null), ACCOUNT).status()).isEqualTo(MailStatus.FAILED);
  }

  @Test
  void cutOffRecipientsStayOpenForTheNextAccount() {
    Ledger l = new Ledger(mail(1, null), List.of(ann, bob));
    l.apply(
        Delivery.cutOff(List.of(ann, bob), Reply.local(451, "4.4.1", "refused"), "connect", null),
        "dead");

    assertThat(l.open()).containsExactly(ann, bob);
    l.apply(each(ann, RecipientStatus.DELIVERED, OK, bob, RecipientStatus.FAILED, UNKNOWN), "live");
    assertThat(l.finish(NOW, policy(null), ACCOUNT).status()).isEqualTo(MailStatus.PARTIALLY_SENT);
  }

  @Test
  void aServerReplyWithoutAnEnhancedCodeIsRecordedWithTheClassDefault() {
    Reply bare = new Reply(550, null, List.of("user unknown"), false);
    RecipientResult r = Delivery.result(ann, RecipientStatus.FAILED, bare, "rcpt", null, null);
    assertThat(r.enhancedCode()).isEqualTo("5.0.0");
  }
}
