package dev.postroom.outbox;

/** One recipient row of a claimed mail. {@code status} is the mail.recipient_status value. */
public record DeliveryRecipient(
    long id,
    long mailId,
    String kind,
    String address,
    String displayName,
    String domain,
    String status,
    int attempts) {

  /** Pending or deferred: still to be sent. */
  public boolean isOpen() {
    return status.equals("pending") || status.equals("deferred");
  }
}
