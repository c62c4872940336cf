package dev.postroom.outbox;

import java.time.Instant;
import java.util.List;

/**
 * Everything one write records for a claimed mail: recipient results and events, and, when the
 * attempt is over, the mail's new state ({@link Finish}). Written in one transaction, fenced by the
 * lease token.
 */
public record DeliveryRecord(
    ClaimedMail mail,
    Instant now,
    List<RecipientResult> results,
    List<DeliveryEvent> events,
    Finish finish) {

  public DeliveryRecord {
    results = List.copyOf(results);
    events = List.copyOf(events);
  }

  /**
   * The mail's state after the attempt.
   *
   * @param status retrying, sent, partially_sent or failed
   * @param nextAttemptAt when status is retrying, else null
   * @param accountId the account that last carried the mail (nullable)
   */
  public record Finish(
      MailStatus status,
      Instant nextAttemptAt,
      Integer accountId,
      Integer lastReplyCode,
      String lastEnhancedCode,
      String lastReplyText) {
    public Finish {
      if ((status == MailStatus.RETRYING) != (nextAttemptAt != null)) {
        throw new IllegalArgumentException("a retrying mail, and only it, has a next attempt");
      }
      if (status == MailStatus.QUEUED
          || status == MailStatus.SENDING
          || status == MailStatus.CANCELLED) {
        throw new IllegalArgumentException("an attempt does not end a mail as " + status);
      }
    }
  }
}
