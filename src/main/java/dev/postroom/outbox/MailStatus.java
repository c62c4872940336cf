package dev.postroom.outbox;

import java.util.Locale;

/** A mail's status: the values of the PostgreSQL enum {@code mail.mail_status}, in its order. */
public enum MailStatus {
  QUEUED,
  SENDING,
  RETRYING,
  SENT,
  PARTIALLY_SENT,
  FAILED,
  CANCELLED;

  /** The enum label in SQL. */
  public String sql() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static MailStatus fromSql(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
