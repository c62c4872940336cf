package dev.postroom.outbox;

/** One recipient row of a claimed mail, as it was when the mail was claimed. */
public record DeliveryRecipient(
    long id,
    long mailId,
    String kind,
    String address,
    String displayName,
    String domain,
    RecipientStatus status,
    int attempts) {

  /** Pending or deferred: still to be sent. */
  public boolean isOpen() {
    return status.isOpen();
  }
}
