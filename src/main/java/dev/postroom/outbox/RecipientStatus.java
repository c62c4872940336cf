package dev.postroom.outbox;

import java.util.Locale;

/**
 * A recipient's status: the values of the PostgreSQL enum {@code mail.recipient_status}, in its
 * order.
 */
public enum RecipientStatus {
  PENDING,
  DEFERRED,
  DELIVERED,
  FAILED,
  SUPPRESSED;

  /** Pending or deferred: still to be sent. */
  public boolean isOpen() {
    return this == PENDING || this == DEFERRED;
  }

  /** The enum label in SQL. */
  public String sql() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static RecipientStatus fromSql(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
