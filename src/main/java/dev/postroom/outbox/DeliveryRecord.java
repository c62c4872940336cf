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

  /**
   * The mail's state after the attempt.
   *
   * @param status retrying, sent, partially_sent or failed
   * @param nextAttemptAt when status is retrying
   * @param accountId the account that last carried the mail (nullable)
   */
  public record Finish(
      String status,
      Instant nextAttemptAt,
      Integer accountId,
      Integer lastReplyCode,
      String lastEnhancedCode,
      String lastReplyText) {}
}
