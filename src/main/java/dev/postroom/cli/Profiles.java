package dev.postroom.cli;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Profile housekeeping shared by {@code account add} and the demo, through the SQL API. */
final class Profiles {
  private Profiles() {}

  /**
   * Adds the account to the profile, last in failover order, creating the profile when missing (as
   * the default profile when {@code makeDefault}).
   */
  static void addAccount(Connection c, String profile, String account, boolean makeDefault)
      throws SQLException {
    boolean exists;
    try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM mail.profile WHERE name = ?")) {
      st.setString(1, profile);
      try (ResultSet rs = st.executeQuery()) {
        exists = rs.next();
      }
    }
    if (!exists) {
      try (PreparedStatement st =
          c.prepareStatement("SELECT mail.add_profile(name => ?, is_default => ?)")) {
        st.setString(1, profile);
        st.setBoolean(2, makeDefault);
        st.executeQuery().close();
      }
    }
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT mail.add_profile_account(profile_name => ?, account_name => ?,
                   sequence => (SELECT coalesce(max(pa.sequence), 0) + 1
                                  FROM mail.profile_account pa
                                  JOIN mail.profile p ON p.id = pa.profile_id
                                 WHERE p.name = ?))
            """)) {
      st.setString(1, profile);
      st.setString(2, account);
      st.setString(3, profile);
      st.executeQuery().close();
    }
  }
}
