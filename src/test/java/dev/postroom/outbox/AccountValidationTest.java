package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.smtp.SmtpSettings;
import dev.postroom.testing.SenderLogin;
import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/**
 * Issue 12, findings 4, 7 and 9: add_account refuses what would leak credentials or what the SMTP
 * client would reject later (and loop), and never echoes a secret.
 */
class AccountValidationTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @RegisterExtension static final SenderLogin admin = new SenderLogin(db, "admin", "mail_admin");

  @Test
  void anMxAccountTakesNoCredentials() throws SQLException {
    for (String args :
        List.of(
            "username => 'robot', password => 's3cret-mx'",
            "username => 'robot'",
            "password => 's3cret-mx'",
            "auth => 'plain'")) {
      refused(
          "SELECT mail.add_account('mx-creds', delivery => 'mx', " + args + ")",
          "MA016",
          "mx-creds",
          "relay only");
    }
    try (Connection c = admin.connect()) {
      Sql.one(c, "SELECT mail.add_account('mx-ok', delivery => 'mx')");
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "UPDATE mail.account SET username = 'u', password = 'p' WHERE name = 'mx-ok'"
                      + " RETURNING id"))
          .as("even a direct update by an admin")
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23514"));
    }
  }

  @Test
  void aUsernameNeedsAPasswordAndTheReverse() throws SQLException {
    refused(
        "SELECT mail.add_account('half', host => 'smtp.example.com', username => 'robot')",
        "MA016",
        "half",
        "username without a password");
    refused(
        "SELECT mail.add_account('half', host => 'smtp.example.com', password => 'pw-only-1')",
        "MA016",
        "half",
        "password without a username");
  }

  @Test
  void heloNameFollowsTheSmtpClientsRule() throws SQLException {
    List<String> odd =
        List.of(
            "mail.example.com",
            "localhost",
            "[192.0.2.1]",
            "[IPv6:2001:db8::1]",
            "not a domain",
            "under_score.example",
            "-dash.example",
            "trailing.dot.",
            "bücher.example",
            "a".repeat(64) + ".example",
            "x@example.com",
            "[300.1.1.1");
    for (String helo : odd) {
      boolean java;
      try {
        SmtpSettings.defaults(helo);
        java = true;
      } catch (IllegalArgumentException e) {
        java = false;
      }
      boolean sql;
      String name = "helo-" + Integer.toHexString(helo.hashCode());
      try (Connection c = admin.connect()) {
        Sql.one(
            c,
            "SELECT mail.add_account(?, host => 'smtp.example.com', helo_name => ?)",
            name,
            helo);
        sql = true;
      } catch (PSQLException e) {
        assertThat(e.getSQLState()).as(helo).isEqualTo("MA016");
        assertThat(e.getServerErrorMessage().getMessage()).contains(helo);
        sql = false;
      }
      assertThat(sql).as("SQL and the SMTP client agree on helo_name %s", helo).isEqualTo(java);
    }
  }

  @Test
  void aPasswordIsNeverEchoedInAnError() throws SQLException {
    String secret = "top-secret-\r\nvalue";
    try (Connection c = admin.connect()) {
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "SELECT mail.add_account('leaky', host => 'smtp.example.com',"
                      + " username => 'robot', password => ?)",
                  secret))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("MA003");
                assertThat(e.getMessage()).doesNotContain("top-secret").contains("leaky");
              });
    }
    assertThat(Sql.rows(db.dataSource(), "SELECT id FROM mail.account WHERE name = 'leaky'"))
        .isEmpty();
  }

  private static void refused(String sql, String state, String... mentions) throws SQLException {
    try (Connection c = admin.connect()) {
      assertThatThrownBy(() -> Sql.rows(c, sql))
          .as(sql)
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo(state);
                assertThat(e.getServerErrorMessage().getMessage())
                    .contains(mentions)
                    .doesNotContain("s3cret", "pw-only");
              });
    }
    assertThat(Sql.rows(db.dataSource(), "SELECT name FROM mail.account"))
        .allSatisfy(r -> assertThat(r.get("name")).isNotIn("mx-creds", "half"));
  }
}
