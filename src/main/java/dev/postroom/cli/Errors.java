package dev.postroom.cli;

import dev.postroom.config.DatabaseConfig;
import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Turns whatever went wrong into one line a user can act on. */
final class Errors {
  static final String CONNECTION_HINT =
      "set --db, POSTROOM_DB_URL or PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD";

  private Errors() {}

  /** The first SQL error in the cause chain, if any. */
  static SQLException sqlCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SQLException sql) {
        return sql;
      }
    }
    return null;
  }

  /** Whether the failure is that the server could not be reached or refused the login. */
  static boolean isConnectionFailure(Throwable t) {
    SQLException sql = sqlCause(t);
    String state = sql == null ? null : sql.getSQLState();
    return state != null && (state.startsWith("08") || state.startsWith("28"));
  }

  static String describe(Throwable t, DatabaseConfig db) {
    if (t instanceof CliFailure) {
      return t.getMessage();
    }
    SQLException sql = sqlCause(t);
    if (sql == null) {
      String message = t.getMessage();
      return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }
    String state = sql.getSQLState() == null ? "" : sql.getSQLState();
    String where = db == null ? "PostgreSQL" : db.describe();
    String message = serverMessage(sql);
    if (state.startsWith("08")) {
      return "cannot connect to " + where + ": " + message + " (" + CONNECTION_HINT + ")";
    }
    if (state.startsWith("28")) {
      return "PostgreSQL refused the login "
          + where
          + ": "
          + message
          + " ("
          + CONNECTION_HINT
          + ")";
    }
    return switch (state) {
      case "3D000" ->
          "database "
              + (db == null ? "" : db.database() + " ")
              + "does not exist: "
              + message
              + " (create it, or "
              + CONNECTION_HINT
              + ")";
      case "3F000", "42P01", "42883" ->
          message + " (is Postroom's schema installed? run: postroom migrate)";
      case "42501" -> message + " (connect as a role that has mail_admin or mail_sender)";
      default -> message + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")");
    };
  }

  /** The server's own message without the driver's decorations, e.g. "ERROR:" and positions. */
  static String serverMessage(SQLException sql) {
    if (sql instanceof PSQLException psql) {
      ServerErrorMessage server = psql.getServerErrorMessage();
      if (server != null && server.getMessage() != null) {
        return server.getDetail() == null
            ? server.getMessage()
            : server.getMessage() + ": " + server.getDetail();
      }
    }
    String message = sql.getMessage();
    return message == null ? sql.getClass().getSimpleName() : message.strip();
  }
}
