package dev.postroom.outbox;

/**
 * What one SMTP transaction decided for one recipient, as it is written to {@code mail.recipient}.
 *
 * @param status delivered, deferred or failed
 */
public record RecipientResult(
    long recipientId,
    String status,
    Integer replyCode,
    String enhancedCode,
    String replyText,
    String stage,
    String remoteHost,
    String forwardPath) {}
