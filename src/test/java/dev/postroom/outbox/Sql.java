package dev.postroom.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** Small JDBC helpers for the outbox tests. */
final class Sql {
  private Sql() {}

  /** The default profile with one relay account, as most tests need. */
  static void createDefaultProfile(DataSource ds) throws SQLException {
    exec(
        ds,
        "SELECT mail.add_account('relay', host => 'smtp.example.com', username => 'robot',"
            + " password => 's3cret', from_address => 'Robot <robot@example.com>')",
        "SELECT mail.add_profile('main', 'the default', true)",
        "SELECT mail.add_profile_account('main', 'relay', 1)");
  }

  static void exec(DataSource ds, String... statements) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      for (String s : statements) {
        st.execute(s);
      }
    }
  }

  static List<Map<String, Object>> rows(Connection c, String sql, Object... args)
      throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        List<Map<String, Object>> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= n; i++) {
            row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
          }
          out.add(row);
        }
        return out;
      }
    }
  }

  static List<Map<String, Object>> rows(DataSource ds, String sql, Object... args)
      throws SQLException {
    try (Connection c = ds.getConnection()) {
      return rows(c, sql, args);
    }
  }

  static Object one(DataSource ds, String sql, Object... args) throws SQLException {
    List<Map<String, Object>> rows = rows(ds, sql, args);
    if (rows.size() != 1) {
      throw new AssertionError("expected one row from " + sql + " but got " + rows.size());
    }
    return rows.get(0).values().iterator().next();
  }

  static Object one(Connection c, String sql, Object... args) throws SQLException {
    List<Map<String, Object>> rows = rows(c, sql, args);
    if (rows.size() != 1) {
      throw new AssertionError("expected one row from " + sql + " but got " + rows.size());
    }
    return rows.get(0).values().iterator().next();
  }

  static long count(DataSource ds, String table) throws SQLException {
    return ((Number) one(ds, "SELECT count(*) FROM " + table)).longValue();
  }

  /** Row counts of the tables an enqueue writes, to prove nothing was half-written. */
  static List<Long> footprint(DataSource ds) throws SQLException {
    return List.of(
        count(ds, "mail.outbox"),
        count(ds, "mail.recipient"),
        count(ds, "mail.attachment"),
        count(ds, "mail.event_log"));
  }

  /** Creates a NOLOGIN role that is a member of mail_sender, tolerating a concurrent creation. */
  static void ensureSender(DataSource ds, String role) throws SQLException {
    exec(
        ds,
        "DO $$ BEGIN CREATE ROLE "
            + role
            + " NOLOGIN IN ROLE mail_sender; EXCEPTION WHEN duplicate_object OR unique_violation"
            + " THEN NULL; END $$",
        "GRANT mail_sender TO " + role);
  }
}
