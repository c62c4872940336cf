package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.SenderLogin;
import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/**
 * Issue 12, finding 8: profiles per principal, as sysmail_add_principalprofile_sp. A private
 * profile is for the roles granted it (MA024 for others); a role's default grant beats the global
 * default.
 */
class ProfilePrincipalTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @RegisterExtension static final SenderLogin billing = new SenderLogin(db, "billing");
  @RegisterExtension static final SenderLogin other = new SenderLogin(db, "other");
  @RegisterExtension static final SenderLogin member = new SenderLogin(db, "member");

  @BeforeAll
  static void profiles() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_profile('invoices', 'private', is_public => false)",
        "SELECT mail.add_profile_account('invoices', 'relay', 1)",
        "SELECT mail.add_profile('payroll', 'private', is_public => false)",
        "SELECT mail.add_profile_account('payroll', 'relay', 1)",
        "SELECT mail.grant_profile('invoices', '" + billing.name() + "', is_default => true)",
        "GRANT " + billing.name() + " TO " + member.name());
  }

  @Test
  void aPrivateProfileIsRefusedToARoleNotGrantedItAndNothingIsWritten() throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    try (Connection c = other.connect()) {
      for (String sql :
          List.of(
              "SELECT mail.send('a@example.com', profile_name => 'invoices')",
              "INSERT INTO mail.outbox (recipients, profile_name) VALUES ('a@example.com',"
                  + " 'invoices') RETURNING id")) {
        assertThatThrownBy(() -> Sql.rows(c, sql))
            .as(sql)
            .isInstanceOfSatisfying(
                PSQLException.class,
                e -> {
                  assertThat(e.getSQLState()).isEqualTo("MA024");
                  assertThat(e.getServerErrorMessage().getMessage())
                      .contains("invoices", other.name());
                });
      }
      assertThat(Sql.one(c, "SELECT mail.send('a@example.com')"))
          .as("the public default still works")
          .isNotNull();
    }
    assertThat(Sql.footprint(db.dataSource()).get(0)).isEqualTo(before.get(0) + 1);
  }

  @Test
  void aRolesDefaultGrantBeatsTheGlobalDefaultAndMembersInheritIt() throws SQLException {
    for (SenderLogin who : List.of(billing, member)) {
      try (Connection c = who.connect()) {
        long id = (Long) Sql.one(c, "SELECT mail.send('a@example.com')");
        assertThat(Sql.one(c, "SELECT profile_name FROM mail.outbox WHERE id = ?", id))
            .as(who.name())
            .isEqualTo("invoices");
        assertThat(Sql.one(c, "SELECT mail.send('a@example.com', profile_name => 'invoices')"))
            .isNotNull();
      }
    }
    try (Connection c = other.connect()) {
      long id = (Long) Sql.one(c, "SELECT mail.send('a@example.com')");
      assertThat(Sql.one(c, "SELECT profile_name FROM mail.outbox WHERE id = ?", id))
          .isEqualTo("main");
    }
  }

  @Test
  void grantAndRevokeTakeEffectAtOnce() throws SQLException {
    String send = "SELECT mail.send('a@example.com', profile_name => 'payroll')";
    Sql.exec(db.dataSource(), "SELECT mail.grant_profile('payroll', '" + other.name() + "')");
    try (Connection c = other.connect()) {
      assertThat(Sql.one(c, send)).isNotNull();
      assertThat(
              Sql.rows(
                  c,
                  "SELECT p.name FROM mail.profile_principal pp JOIN mail.profile p"
                      + " ON p.id = pp.profile_id"))
          .as("a sender sees only the grants that apply to it")
          .containsExactly(Map.of("name", "payroll"));
    }
    assertThat(
            Sql.one(
                db.dataSource(), "SELECT mail.revoke_profile('payroll', '" + other.name() + "')"))
        .isEqualTo(true);
    try (Connection c = other.connect()) {
      assertThatThrownBy(() -> Sql.rows(c, send))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA024"));
    }
  }

  @Test
  void aSenderCannotForgeTheCachedDefaultProfile() throws SQLException {
    Object payroll =
        Sql.one(db.dataSource(), "SELECT id::text FROM mail.profile WHERE name = 'payroll'");
    try (Connection c = other.connect()) {
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "INSERT INTO mail.outbox (recipients, subject) SELECT 'a@example.com',"
                      + " set_config('postroom.default_profile_id', ?, true) RETURNING id",
                  payroll))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA024"));
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "INSERT INTO mail.outbox (recipients, subject) SELECT string_agg('r' || i ||"
                      + " '@example.com', ';'), set_config('postroom.max_recipients', '100000', true)"
                      + " FROM generate_series(1, 1001) i RETURNING id"))
          .as("nor the cached max_recipients")
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA007"));
    }
  }

  @Test
  void grantProfileNamesAnUnknownProfileOrRole() {
    assertThatThrownBy(
            () -> Sql.exec(db.dataSource(), "SELECT mail.grant_profile('nope', 'mail_sender')"))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("MA004");
              assertThat(e.getServerErrorMessage().getMessage()).contains("nope");
            });
    assertThatThrownBy(() ->
            Sql.exec(db.dataSource(), "SELECT mail.grant_profile('payroll', 'no_such_role_x')"))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("MA016");
              assertThat(e.getServerErrorMessage().getMessage()).contains("no_such_role_x");
            });
  }
}
