package dev.postroom.outbox;

import java.time.Instant;
import java.util.List;

/**
 * A mail a delivery status notification reports on, with its recipients that failed (or, for a
 * delay report, those still deferred).
 *
 * @param sender the original sender (the mail's from address, else its account's)
 */
public record ReportedMail(
    long id,
    String messageId,
    Instant createdAt,
    String subject,
    String sender,
    String accountName,
    Instant expiresAt,
    boolean delay,
    List<Recipient> recipients) {

  /** A failed recipient and the reply that decided it; {@code expired}: it ran out of time. */
  public record Recipient(
      String address,
      Integer replyCode,
      String enhancedCode,
      String replyText,
      String remoteHost,
      Instant lastAttempt,
      boolean expired) {}
}
