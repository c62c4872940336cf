package dev.postroom.outbox;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * A mail a dispatcher holds under lease: the outbox row as the claim returned it. Every write made
 * on its behalf carries {@link #leaseToken()}, so that once another dispatcher has taken the mail
 * over, the old holder's writes change nothing.
 *
 * @param headers extra headers from the {@code headers} jsonb, name to value
 * @param reportFor the mail this one is a delivery status notification for, else null
 * @param reportKind for a notification: failure or delay
 * @param templateError why the mail's template could not be rendered at claim, else null (the mail
 *     then cannot be composed and fails with 5.6.0)
 * @param listUnsubscribe list mail: it carries one-click List-Unsubscribe headers (RFC 8058)
 */
public record ClaimedMail(
    long id,
    UUID leaseToken,
    int attempts,
    Integer profileId,
    String subject,
    String body,
    String bodyFormat,
    String fromAddress,
    String replyTo,
    String importance,
    String sensitivity,
    Map<String, String> headers,
    String messageId,
    Instant createdAt,
    Instant expiresAt,
    Long reportFor,
    String reportKind,
    String createdBy,
    String templateError,
    boolean listUnsubscribe) {

  public ClaimedMail(
      long id,
      UUID leaseToken,
      int attempts,
      Integer profileId,
      String subject,
      String body,
      String bodyFormat,
      String fromAddress,
      String replyTo,
      String importance,
      String sensitivity,
      Map<String, String> headers,
      String messageId,
      Instant createdAt,
      Instant expiresAt,
      Long reportFor,
      String reportKind,
      String createdBy) {
    this(
        id,
        leaseToken,
        attempts,
        profileId,
        subject,
        body,
        bodyFormat,
        fromAddress,
        replyTo,
        importance,
        sensitivity,
        headers,
        messageId,
        createdAt,
        expiresAt,
        reportFor,
        reportKind,
        createdBy,
        null,
        false);
  }

  /** This mail with its template rendered into subject and body, or with why it could not be. */
  ClaimedMail rendered(String subject, String body, String templateError) {
    return new ClaimedMail(
        id,
        leaseToken,
        attempts,
        profileId,
        subject,
        body,
        bodyFormat,
        fromAddress,
        replyTo,
        importance,
        sensitivity,
        headers,
        messageId,
        createdAt,
        expiresAt,
        reportFor,
        reportKind,
        createdBy,
        templateError,
        listUnsubscribe);
  }

  public boolean isNotification() {
    return reportFor != null;
  }
}
