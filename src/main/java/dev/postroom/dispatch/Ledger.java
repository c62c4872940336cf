package dev.postroom.dispatch;

import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAccount;
import dev.postroom.outbox.DeliveryEvent;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.DeliveryRecord;
import dev.postroom.outbox.EventKind;
import dev.postroom.outbox.MailStatus;
import dev.postroom.outbox.RecipientResult;
import dev.postroom.outbox.RecipientStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The book of one attempt at one mail: each recipient's status as deliveries are applied, what is
 * not written yet, and at the end what becomes of the mail (retry at a time, or finished with a
 * status). Pure: no sockets, no database, time and retry policy passed in.
 *
 * <p>A recipient that is no longer open (delivered, failed, suppressed) is never changed again, so
 * no delivery can undo a 250.
 */
final class Ledger {
  /** What {@link #drain} hands to a write. */
  record Unwritten(List<RecipientResult> results, List<DeliveryEvent> events) {}

  private final ClaimedMail mail;
  private final List<DeliveryRecipient> recipients;
  private final Map<Long, RecipientStatus> status = new LinkedHashMap<>();
  private final Map<Long, RecipientResult> last = new LinkedHashMap<>();
  private final Map<Long, RecipientResult> unwrittenResults = new LinkedHashMap<>();
  private final List<DeliveryEvent> unwrittenEvents = new ArrayList<>();
  private RecipientResult lastResult;
  private RecipientResult lastProblem;

  Ledger(ClaimedMail mail, List<DeliveryRecipient> recipients) {
    this.mail = mail;
    this.recipients = List.copyOf(recipients);
    recipients.forEach(r -> status.put(r.id(), r.status()));
  }

  ClaimedMail mail() {
    return mail;
  }

  List<DeliveryRecipient> recipients() {
    return recipients;
  }

  /** The recipients still to be sent, in enqueue order. */
  List<DeliveryRecipient> open() {
    return recipients.stream().filter(r -> status.get(r.id()).isOpen()).toList();
  }

  long count(RecipientStatus s) {
    return status.values().stream().filter(s::equals).count();
  }

  /** Applies a transport's delivery through {@code accountName}. */
  void apply(Delivery delivery, String accountName) {
    for (RecipientResult r : delivery.results()) {
      RecipientStatus now = status.get(r.recipientId());
      if (now == null || !now.isOpen()) {
        continue;
      }
      status.put(r.recipientId(), r.status());
      last.put(r.recipientId(), r);
      unwrittenResults.put(r.recipientId(), r);
      unwrittenEvents.add(DeliveryEvent.of(r, accountName));
      lastResult = r;
      if (r.status() != RecipientStatus.DELIVERED) {
        lastProblem = r;
      }
    }
    unwrittenEvents.addAll(delivery.events());
  }

  /** Ends every open recipient as failed, keeping the last reply it had (event {@code expired}). */
  void giveUp(String why) {
    for (DeliveryRecipient r : open()) {
      RecipientResult before = last.get(r.id());
      RecipientResult failed =
          before != null
              ? before.withStatus(RecipientStatus.FAILED)
              : new RecipientResult(
                  r.id(), RecipientStatus.FAILED, 451, "4.4.7", why, null, null, null);
      status.put(r.id(), RecipientStatus.FAILED);
      unwrittenResults.put(r.id(), failed);
      unwrittenEvents.add(
          new DeliveryEvent(r.id(), EventKind.EXPIRED, null, null, null, null, "4.4.7", why));
      if (lastProblem == null) {
        lastProblem = failed;
      }
    }
  }

  /**
   * Decides the mail's end once every account has had its chance: open recipients left mean a retry
   * at the policy's time, unless the policy gives up (then they fail, as {@link #giveUp}).
   */
  DeliveryRecord.Finish finish(Instant now, RetryPolicy policy, DeliveryAccount account) {
    String accountName = account == null ? null : account.name();
    if (!open().isEmpty()) {
      RecipientResult decisive = decisive();
      switch (policy.next(
          mail.attempts(), now, mail.expiresAt(), decisive == null ? null : decisive.replyText())) {
        case RetryPolicy.Decision.RetryAt retry -> {
          unwrittenEvents.add(
              DeliveryEvent.ofMail(
                  EventKind.RETRYING, accountName, "next attempt at " + retry.when()));
          return end(MailStatus.RETRYING, retry.when(), account);
        }
        case RetryPolicy.Decision.GiveUp giveUp ->
            giveUp(
                giveUp.reason() == RetryPolicy.Reason.EXPIRED
                    ? "message lifetime ends before the next try; last reply kept"
                    : "max_attempts reached; last reply kept");
      }
    }
    long delivered = count(RecipientStatus.DELIVERED);
    long total = recipients.size();
    MailStatus end =
        delivered == 0
            ? MailStatus.FAILED
            : delivered == total ? MailStatus.SENT : MailStatus.PARTIALLY_SENT;
    unwrittenEvents.add(
        DeliveryEvent.ofMail(
            EventKind.of(end), accountName, delivered + " of " + total + " recipients delivered"));
    return end(end, null, account);
  }

  /** Takes what is not written yet. */
  Unwritten drain() {
    Unwritten out =
        new Unwritten(List.copyOf(unwrittenResults.values()), List.copyOf(unwrittenEvents));
    unwrittenResults.clear();
    unwrittenEvents.clear();
    return out;
  }

  /** The last result of this attempt that was not a delivery, else the last result, else null. */
  RecipientResult decisive() {
    return lastProblem != null ? lastProblem : lastResult;
  }

  private DeliveryRecord.Finish end(MailStatus s, Instant next, DeliveryAccount account) {
    RecipientResult d = decisive();
    return new DeliveryRecord.Finish(
        s,
        next,
        account == null ? null : account.id(),
        d == null ? null : d.replyCode(),
        d == null ? null : d.enhancedCode(),
        d == null ? null : d.replyText());
  }
}
