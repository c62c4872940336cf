package dev.postroom.outbox;

import java.util.Locale;

/** The {@code event} values the dispatcher writes to {@code mail.event_log}. */
public enum EventKind {
  /** A new SMTP session, with its TLS protocol. */
  CONNECTED,
  DELIVERED,
  DEFERRED,
  FAILED,
  /** An account could not be used; the open recipients move to the next one. */
  FAILOVER,
  /** The last account could not be used. */
  ERROR,
  RETRYING,
  /** A recipient gave up: lifetime over or max_attempts reached. */
  EXPIRED,
  SENT,
  PARTIALLY_SENT,
  /** The mail's lease ran out three times without a result; it failed. */
  POISONED,
  /** A delivery status notification could not be queued; the results stand. */
  NOTIFICATION_FAILED,
  /** A throttling reply paused the account or destination for every dispatcher. */
  THROTTLED;

  public String sql() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The event that records a recipient ending in {@code status}. */
  public static EventKind of(RecipientStatus status) {
    return switch (status) {
      case DELIVERED -> DELIVERED;
      case DEFERRED -> DEFERRED;
      case FAILED -> FAILED;
      case PENDING, SUPPRESSED ->
          throw new IllegalArgumentException("no delivery event for " + status);
    };
  }

  /** The event that records a mail ending in {@code status}. */
  public static EventKind of(MailStatus status) {
    return switch (status) {
      case SENT -> SENT;
      case PARTIALLY_SENT -> PARTIALLY_SENT;
      case FAILED -> FAILED;
      case RETRYING -> RETRYING;
      case QUEUED, SENDING, CANCELLED ->
          throw new IllegalArgumentException("no delivery event for " + status);
    };
  }
}
