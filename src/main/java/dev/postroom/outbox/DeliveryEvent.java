package dev.postroom.outbox;

/**
 * One row for {@code mail.event_log}: a decision about a recipient or a mail.
 *
 * @param recipientId null for an event about the whole mail
 */
public record DeliveryEvent(
    Long recipientId,
    EventKind event,
    String accountName,
    String remoteHost,
    String stage,
    Integer replyCode,
    String enhancedCode,
    String replyText) {

  public static DeliveryEvent ofMail(EventKind event, String accountName, String text) {
    return new DeliveryEvent(null, event, accountName, null, null, null, null, text);
  }

  /** The event that records a recipient's result. */
  public static DeliveryEvent of(RecipientResult r, String accountName) {
    return new DeliveryEvent(
        r.recipientId(),
        EventKind.of(r.status()),
        accountName,
        r.remoteHost(),
        r.stage(),
        r.replyCode(),
        r.enhancedCode(),
        r.replyText());
  }
}
