package dev.postroom.web;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

/**
 * One visitor: a random id (the cookie), a CSRF token for its forms, and once logged in the
 * connection opened with the visitor's own role. The password is never kept. Requests of one
 * session run one at a time ({@link #lock}), as a JDBC connection serves one statement at a time.
 */
final class Session {
  final String id;
  final String csrf;
  final Object lock = new Object();
  private volatile Instant lastSeen;
  private Connection connection;
  private String role;
  private boolean admin;
  private String flash;
  private boolean flashError;

  Session(String id, String csrf, Instant now) {
    this.id = id;
    this.csrf = csrf;
    this.lastSeen = now;
  }

  /** A session that has logged in, keeping this session's age but with a fresh id and token. */
  Session loggedIn(String newId, String newCsrf, Connection c, String role, boolean admin) {
    Session s = new Session(newId, newCsrf, lastSeen);
    s.connection = c;
    s.role = role;
    s.admin = admin;
    return s;
  }

  boolean authenticated() {
    return connection != null;
  }

  Connection connection() {
    return connection;
  }

  String role() {
    return role;
  }

  boolean admin() {
    return admin;
  }

  void touch(Instant now) {
    lastSeen = now;
  }

  Instant lastSeen() {
    return lastSeen;
  }

  void flash(String message, boolean error) {
    flash = message;
    flashError = error;
  }

  /** The message for the next page, once. */
  String takeFlash() {
    String f = flash;
    flash = null;
    return f;
  }

  boolean flashError() {
    return flashError;
  }

  void close() {
    Connection c = connection;
    connection = null;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // the server side is gone already; nothing to release
      }
    }
  }
}
