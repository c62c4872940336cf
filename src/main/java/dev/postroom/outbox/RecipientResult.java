package dev.postroom.outbox;

/**
 * What one attempt decided for one recipient, as it is written to {@code mail.recipient}.
 *
 * @param status delivered, deferred or failed
 * @param enhancedCode always set when {@code replyCode} is (the class default X.0.0 when the server
 *     sent none or one of the wrong class)
 * @param stage the SMTP step that decided it (connect, mail, rcpt, data, data_end) or a local one
 *     (compose, address)
 */
public record RecipientResult(
    long recipientId,
    RecipientStatus status,
    Integer replyCode,
    String enhancedCode,
    String replyText,
    String stage,
    String remoteHost,
    String forwardPath) {

  public RecipientResult {
    if (status == RecipientStatus.PENDING || status == RecipientStatus.SUPPRESSED) {
      throw new IllegalArgumentException(
          "a result is delivered, deferred or failed, not " + status);
    }
  }

  /** The same result with another status (a deferral that gives up keeps its reply). */
  public RecipientResult withStatus(RecipientStatus value) {
    return new RecipientResult(
        recipientId, value, replyCode, enhancedCode, replyText, stage, remoteHost, forwardPath);
  }
}
