package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/** mail.update_account / update_profile / delete_* as a DBA uses them. */
class AccountAdminTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeEach
  void accounts() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "DELETE FROM mail.outbox",
        "DELETE FROM mail.profile_account",
        "DELETE FROM mail.profile",
        "DELETE FROM mail.account",
        "SELECT mail.add_account('relay', host => 'smtp.example.com', username => 'app',"
            + " password => 'old-secret', from_address => 'app@example.com')",
        "SELECT mail.add_account('backup', host => 'smtp2.example.com',"
            + " from_address => 'app@example.com')",
        "SELECT mail.add_profile('main', is_default => true)",
        "SELECT mail.add_profile_account('main', 'relay', 1)");
  }

  private static Map<String, Object> account(String name) throws SQLException {
    return Sql.rows(
            db.dataSource(),
            "SELECT host, port, tls, username, password, from_address, rate_per_minute"
                + " FROM mail.account WHERE name = ?",
            name)
        .get(0);
  }

  private static void refused(String sql, String state, String... fragments) {
    assertThatThrownBy(() -> Sql.exec(db.dataSource(), sql))
        .as(sql)
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo(state);
              assertThat(e.getServerErrorMessage().getMessage()).contains(fragments);
            });
  }

  @Test
  void addingAnAccountTwiceIsRefusedPointingToUpdateAccount() {
    refused(
        "SELECT mail.add_account('relay', host => 'other.example.com')",
        "MA016",
        "account relay already exists",
        "mail.update_account('relay'");
    refused(
        "SELECT mail.add_profile('main')",
        "MA016",
        "profile main already exists",
        "update_profile");
  }

  @Test
  void updateAccountChangesOnlyTheGivenValues() throws SQLException {
    Sql.exec(db.dataSource(), "SELECT mail.update_account('relay', password => 'new-secret')");
    Map<String, Object> a = account("relay");
    assertThat(a.get("password")).isEqualTo("new-secret");
    assertThat(a.get("host")).isEqualTo("smtp.example.com");
    assertThat(a.get("username")).isEqualTo("app");
    assertThat(a.get("port")).isEqualTo(587);

    Sql.exec(
        db.dataSource(),
        "SELECT mail.update_account('relay', port => 465, tls => 'implicit', rate_per_minute => 60)");
    assertThat(account("relay"))
        .containsEntry("port", 465)
        .containsEntry("tls", "implicit")
        .containsEntry("rate_per_minute", 60)
        .containsEntry("password", "new-secret");

    Sql.exec(
        db.dataSource(),
        "SELECT mail.update_account('relay', username => '', password => '', rate_per_minute => 0)");
    assertThat(account("relay"))
        .containsEntry("username", null)
        .containsEntry("password", null)
        .containsEntry("rate_per_minute", null);
  }

  @Test
  void updateAccountChecksTheResultAsAddAccountDoesAndChangesNothingWhenRefused()
      throws SQLException {
    refused("SELECT mail.update_account('relay', tls => 'ssl')", "MA016", "ssl");
    refused(
        "SELECT mail.update_account('relay', username => '')",
        "MA016",
        "password without a username");
    refused(
        "SELECT mail.update_account('relay', delivery => 'mx')",
        "MA016",
        "takes no username, password or auth");
    refused("SELECT mail.update_account('relay', new_name => 'backup')", "MA016", "taken");
    refused("SELECT mail.update_account('nope', port => 25)", "MA016", "unknown account: nope");
    refused(
        "SELECT mail.update_account('relay', password => E'a\\nb')",
        "MA003",
        "the value is not shown");
    assertThat(account("relay"))
        .containsEntry("tls", "starttls_required")
        .containsEntry("password", "old-secret");
  }

  @Test
  void credentialsWithoutTlsAreAcceptedWithAWarningThatAuthIsNeverSent() throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute("SELECT mail.update_account('relay', tls => 'none')");
      SQLWarning warning = st.getWarnings();
      assertThat(warning == null ? null : warning.getMessage())
          .contains("AUTH will never be sent")
          .contains("its own rule")
          .doesNotContain("old-secret");
    }
  }

  @Test
  void updateProfileRenamesAndMovesTheDefault() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_profile('bulk')",
        "SELECT mail.update_profile('bulk', new_name => 'newsletters', description => 'Lists',"
            + " is_default => true)");
    assertThat(
            Sql.rows(
                db.dataSource(), "SELECT name, description FROM mail.profile WHERE is_default"))
        .containsExactly(Map.of("name", "newsletters", "description", "Lists"));
    refused("SELECT mail.update_profile('gone', is_default => true)", "MA004", "gone");
  }

  @Test
  void theLastAccountOfAProfileWithWaitingMailCannotBeDeleted() throws SQLException {
    Sql.exec(db.dataSource(), "SELECT mail.send(recipients => 'ann@example.com', subject => 'x')");
    refused(
        "SELECT mail.delete_account('relay')",
        "MA016",
        "only account of profile(s) main",
        "mail.add_profile_account");
    refused(
        "SELECT mail.delete_profile_account('main', 'relay')", "MA016", "last account of profile");

    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_profile_account('main', 'backup', 2)",
        "SELECT mail.delete_account('relay')");
    assertThat(Sql.rows(db.dataSource(), "SELECT name FROM mail.account"))
        .containsExactly(Map.of("name", "backup"));
    assertThat(Sql.one(db.dataSource(), "SELECT count(*) FROM mail.profile_account")).isEqualTo(1L);
  }

  @Test
  void aProfileIsDeletedOnceItsMailHasFinishedAndTheMailKeepsItsProfileName() throws SQLException {
    long id =
        (Long)
            Sql.one(
                db.dataSource(),
                "SELECT mail.send(recipients => 'ann@example.com', subject => 'x')");
    refused("SELECT mail.delete_profile('main')", "MA016", "1 mail(s) waiting", "mail.cancel");

    Sql.exec(
        db.dataSource(), "SELECT mail.cancel(" + id + ")", "SELECT mail.delete_profile('main')");

    assertThat(Sql.one(db.dataSource(), "SELECT count(*) FROM mail.profile")).isEqualTo(0L);
    Map<String, Object> mail =
        Sql.rows(
                db.dataSource(),
                "SELECT profile_id, profile_name, status::text AS status FROM mail.outbox")
            .get(0);
    assertThat(mail)
        .containsEntry("profile_id", null)
        .containsEntry("profile_name", "main")
        .containsEntry("status", "cancelled");
    refused("SELECT mail.delete_profile('main')", "MA004", "unknown profile: main");
  }

  @Test
  void deleteProfileAccountTakesOneAccountOutOfTheFailoverList() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_profile_account('main', 'backup', 2)",
        "SELECT mail.delete_profile_account('main', 'relay')");
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT a.name FROM mail.profile_account pa JOIN mail.account a ON a.id = pa.account_id"))
        .containsExactly(Map.of("name", "backup"));
    refused("SELECT mail.delete_profile_account('main', 'relay')", "MA016", "not in profile main");
  }
}
