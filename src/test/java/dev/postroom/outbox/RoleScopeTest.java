package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.SenderLogin;
import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 12, finding 6: Postroom's group roles are cluster-wide, so docs/sql-api.md tells operators
 * to scope logins to their database with CONNECT. This holds what the documentation promises: a
 * mail_admin login without CONNECT on a database has no way into its accounts.
 */
class RoleScopeTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @RegisterExtension
  static final SenderLogin otherTenant = new SenderLogin(db, "tenant_b", "mail_admin");

  @Test
  void aMailAdminOfAnotherTenantCannotConnectOnceConnectIsScoped() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_account('relay', host => 'smtp.example.com',"
            + " username => 'u', password => 'tenant-a-secret')");
    try (Connection c = otherTenant.connect()) {
      assertThat(Sql.one(c, "SELECT password FROM mail.account"))
          .as("unscoped, the cluster-wide role reads this database's password")
          .isEqualTo("tenant-a-secret");
    }
    Sql.exec(db.dataSource(), "REVOKE CONNECT ON DATABASE " + db.name() + " FROM PUBLIC");
    try {
      assertThatThrownBy(otherTenant::connect)
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    } finally {
      Sql.exec(db.dataSource(), "GRANT CONNECT ON DATABASE " + db.name() + " TO PUBLIC");
    }
  }
}
