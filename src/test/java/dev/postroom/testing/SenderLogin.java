package dev.postroom.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A LOGIN role, made for one test class, that is a member of a Postroom group role (mail_sender by
 * default): tests of what a sender may do connect as it, as an application would, instead of a
 * superuser session that SET ROLEs. The superuser only creates it; it is dropped after the class.
 * Register it after the {@link TestDatabase}: {@code @RegisterExtension static final SenderLogin
 * alice = new SenderLogin(db, "alice");}.
 */
public final class SenderLogin implements AfterAllCallback {
  private final TestDatabase db;
  private final String name;
  private final String group;
  private final String password = UUID.randomUUID().toString();
  private boolean created;

  public SenderLogin(TestDatabase db, String label) {
    this(db, label, "mail_sender");
  }

  public SenderLogin(TestDatabase db, String label, String group) {
    this.db = db;
    this.group = group;
    this.name =
        ("postroom_login_" + label + "_" + Long.toHexString(System.nanoTime() & 0xffffffL))
            .toLowerCase(Locale.ROOT);
  }

  /** The role's name (what mail.outbox.created_by shows for its mails). */
  public String name() {
    ensure();
    return name;
  }

  /** A new session logged in as this role. */
  public Connection connect() throws SQLException {
    ensure();
    Properties props = new Properties();
    props.setProperty("user", name);
    props.setProperty("password", password);
    String url = db.url();
    int query = url.indexOf('?');
    return DriverManager.getConnection(query < 0 ? url : url.substring(0, query), props);
  }

  private synchronized void ensure() {
    if (created) {
      return;
    }
    try (Connection c = DriverManager.getConnection(db.url());
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "' IN ROLE " + group);
      created = true;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create login role " + name, e);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (!created) {
      return;
    }
    try (Connection c = DriverManager.getConnection(TestServer.jdbcUrl());
        Statement st = c.createStatement()) {
      st.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + name + "'");
      st.execute("DROP ROLE IF EXISTS " + name);
    }
  }
}
