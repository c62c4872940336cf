package dev.postroom.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Database-wide write counters: rows inserted, updated and deleted, and the WAL position. */
record Stats(long tuples, long wal) {
  /** Read on a new session, so that every other session's counters are already published. */
  static Stats read(String url) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT tup_inserted + tup_updated + tup_deleted AS tuples,"
                    + " pg_current_wal_lsn() - '0/0'::pg_lsn AS wal"
                    + " FROM pg_stat_database WHERE datname = current_database()")) {
      rs.next();
      return new Stats(rs.getLong("tuples"), rs.getLong("wal"));
    }
  }
}
