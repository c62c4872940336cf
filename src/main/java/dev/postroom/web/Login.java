package dev.postroom.web;

import dev.postroom.config.DatabaseConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Opens a visitor's connection with the role and password typed into the login form. The password
 * goes to the driver and nowhere else: not into the session, a log line or an error message.
 */
final class Login {
  static final String APPLICATION_NAME = "postroom-web";
  static final String STATEMENT_TIMEOUT = "30s";

  /** What a login attempt came to: a connection and the role's rights, or a message to show. */
  sealed interface Result {}

  record Accepted(Connection connection, String role, boolean admin) implements Result {}

  record Refused(String message) implements Result {}

  private final DatabaseConfig server;

  Login(DatabaseConfig server) {
    this.server = server;
  }

  Result attempt(String role, String password) {
    if (role == null || role.isBlank() || password == null) {
      return new Refused("Enter a role name and its password.");
    }
    Properties props = new Properties();
    props.setProperty("user", role.strip());
    props.setProperty("password", password);
    props.setProperty("ApplicationName", APPLICATION_NAME);
    props.setProperty("connectTimeout", "10");
    Connection c;
    try {
      c = DriverManager.getConnection(server.jdbcUrl(), props);
    } catch (SQLException e) {
      return new Refused(refusal(e));
    }
    try {
      Result r = check(c);
      if (r instanceof Refused) {
        c.close();
      }
      return r;
    } catch (SQLException e) {
      closeQuietly(c);
      return new Refused(
          "The password was right, but the database could not be read: "
              + e.getMessage()
              + " (SQLSTATE "
              + e.getSQLState()
              + ")");
    }
  }

  private static Result check(Connection c) throws SQLException {
    try (PreparedStatement st =
            c.prepareStatement(
                """
                SELECT current_user::text,
                       CASE WHEN to_regnamespace('mail') IS NULL
                              OR NOT has_schema_privilege('mail', 'USAGE') THEN false
                            ELSE has_table_privilege('mail.outbox', 'SELECT') END,
                       CASE WHEN to_regrole('mail_admin') IS NULL THEN false
                            ELSE pg_has_role('mail_admin', 'USAGE') END
                         OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                """);
        ResultSet rs = st.executeQuery()) {
      rs.next();
      String role = rs.getString(1);
      if (!rs.getBoolean(2)) {
        return new Refused(
            "Role " + role + " may not read mail.outbox: grant it mail_sender or mail_admin.");
      }
      try (var set = c.createStatement()) {
        set.execute("SET statement_timeout = '" + STATEMENT_TIMEOUT + "'");
      }
      return new Accepted(c, role, rs.getBoolean(3));
    }
  }

  /** A message for a failed connection that tells no more than psql would. */
  static String refusal(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    if (state.equals("28P01") || state.equals("28000")) {
      return "Login failed: wrong role name or password.";
    }
    if (state.startsWith("08")) {
      return "The database server cannot be reached; try again later.";
    }
    if (state.equals("3D000")) {
      return "The database does not exist on the server.";
    }
    return "Login failed (SQLSTATE " + state + ").";
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing a connection we are giving up on
    }
  }
}
