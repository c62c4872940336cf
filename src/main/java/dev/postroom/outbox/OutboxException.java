package dev.postroom.outbox;

/**
 * A refusal or failure from the outbox, carrying PostgreSQL's SQLSTATE (for example {@code MA002}
 * for an invalid address; see docs/sql-api.md) and the server's message without bound values.
 */
public final class OutboxException extends RuntimeException {
  private final String sqlState;

  public OutboxException(String sqlState, String message, Throwable cause) {
    super(sqlState == null ? message : message + " [SQLSTATE " + sqlState + "]", cause);
    this.sqlState = sqlState;
  }

  /** The five-character SQLSTATE, or null when the failure did not come from the server. */
  public String sqlState() {
    return sqlState;
  }
}
