package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.PSQLException;

class ConfigurationTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @ParameterizedTest(name = "{0} defaults to {1}")
  @CsvSource(
      delimiter = '|',
      nullValues = "NULL",
      value = {
        "retry_schedule | 1 minute, 5 minutes, 15 minutes, 30 minutes, 1 hour, 2 hours, 4 hours",
        "max_attempts | NULL",
        "message_lifetime | 4 days",
        "max_message_bytes | 26214400",
        "prohibited_extensions | exe,dll,vbs,js,bat,cmd,com,scr,msi",
        "notify_sender_on_failure | false",
        "notify_sender_on_delay | NULL",
        "suppress_hard_bounces | true",
        "hard_bounce_codes | 5.1.1,5.1.2,5.1.10,5.2.1",
        "retention | 30 days",
        "lease_duration | 5 minutes",
        "dns_servers | NULL",
        "mx_port | 25",
        "smtp_connect_timeout | 30 seconds",
        "smtp_greeting_timeout | 5 minutes",
        "smtp_command_timeout | 5 minutes",
        "smtp_data_init_timeout | 2 minutes",
        "smtp_data_block_timeout | 3 minutes",
        "smtp_data_done_timeout | 10 minutes"
      })
  void everySettingHasItsDocumentedDefault(String name, String expected) throws SQLException {
    assertThat(Sql.one(db.dataSource(), "SELECT mail.setting(?)", name)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} = ''{1}'' is stored as ''{2}''")
  @CsvSource(
      delimiter = '|',
      value = {
        "retry_schedule | 30 seconds,2 minutes ,  1 hour | 30 seconds, 2 minutes, 1 hour",
        "max_attempts | 12 | 12",
        "message_lifetime | 2 days | 2 days",
        "max_message_bytes | 1048576 | 1048576",
        "prohibited_extensions | .EXE, Ps1 | exe,ps1",
        "notify_sender_on_failure | on | true",
        "notify_sender_on_delay | 4 hours | 4 hours",
        "hard_bounce_codes | 5.1.1, 5.7.1 | 5.1.1,5.7.1",
        "dns_servers | 127.0.0.1:5353, 10.0.0.1 | 127.0.0.1:5353,10.0.0.1",
        "mx_port | 2525 | 2525",
        "smtp_command_timeout |  3 seconds  | 3 seconds",
        "smtp_data_done_timeout | 00:20:00 | 00:20:00"
      })
  void configureNormalisesAndStoresGoodValues(String name, String value, String stored)
      throws SQLException {
    assertThat(Sql.one(db.dataSource(), "SELECT mail.configure(?, ?)", name, value))
        .isEqualTo(stored);
    assertThat(Sql.one(db.dataSource(), "SELECT mail.setting(?)", name)).isEqualTo(stored);
    Sql.rows(db.dataSource(), "SELECT mail.configure(?, NULL)", name);
  }

  @ParameterizedTest(name = "{0} = ''{1}'' is refused")
  @CsvSource(
      delimiter = '|',
      value = {
        "retry_schedule | soon",
        "retry_schedule | 1 minute, -5 minutes",
        "max_attempts | 0",
        "max_attempts | many",
        "message_lifetime | forever",
        "max_message_bytes | -1",
        "notify_sender_on_failure | perhaps",
        "hard_bounce_codes | 5.1",
        "mx_port | 70000",
        "prohibited_extensions | e x e",
        "smtp_connect_timeout | soon",
        "smtp_greeting_timeout | 0 seconds",
        "smtp_command_timeout | -3 seconds",
        "smtp_data_block_timeout | 500 milliseconds",
        "smtp_data_done_timeout | 2 hours"
      })
  void configureRefusesBadValuesNamingThem(String name, String value) throws SQLException {
    assertThatThrownBy(() -> Sql.rows(db.dataSource(), "SELECT mail.configure(?, ?)", name, value))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("MA013");
              assertThat(e.getServerErrorMessage().getMessage()).contains(name).contains(value);
            });
  }

  @Test
  void configureRefusesUnknownNames() {
    assertThatThrownBy(() -> Sql.rows(db.dataSource(), "SELECT mail.configure('max_atempts', '3')"))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("MA012");
              assertThat(e.getServerErrorMessage().getMessage()).contains("max_atempts");
            });
  }

  @Test
  void aNewDefaultProfileReplacesTheOldOne() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_profile('first', is_default => true)",
        "SELECT mail.add_profile('second', is_default => true)");
    assertThat(Sql.rows(db.dataSource(), "SELECT name FROM mail.profile WHERE is_default"))
        .containsExactly(Map.of("name", "second"));
  }

  @Test
  void accountsAreValidatedAndOrderedWithinAProfile() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "SELECT mail.add_account('primary', host => 'smtp1.example.com', port => 465, tls => 'implicit',"
            + " auth => 'XOAUTH2', from_address => 'app@example.com')",
        "SELECT mail.add_account('direct', delivery => 'mx', tls => 'starttls')",
        "SELECT mail.add_profile('ordered')",
        "SELECT mail.add_profile_account('ordered', 'direct', 2)",
        "SELECT mail.add_profile_account('ordered', 'primary', 1)");
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT a.name, a.auth, pa.sequence FROM mail.profile_account pa"
                    + " JOIN mail.account a ON a.id = pa.account_id JOIN mail.profile p ON p.id = pa.profile_id"
                    + " WHERE p.name = 'ordered' ORDER BY pa.sequence"))
        .extracting(r -> r.get("name") + "/" + r.get("auth") + "/" + r.get("sequence"))
        .containsExactly("primary/xoauth2/1", "direct/null/2");
    for (String[] bad :
        new String[][] {
          {"SELECT mail.add_account('x1', host => 'h', tls => 'ssl')", "ssl"},
          {"SELECT mail.add_account('x2', host => 'h', auth => 'cram-md5')", "cram-md5"},
          {"SELECT mail.add_account('x3')", "no host"},
          {"SELECT mail.add_account('x4', host => 'h', port => 0)", "0"},
          {"SELECT mail.add_account('x5', delivery => 'pigeon')", "pigeon"},
          {"SELECT mail.add_profile_account('ordered', 'nope', 3)", "nope"}
        }) {
      assertThatThrownBy(() -> Sql.exec(db.dataSource(), bad[0]))
          .as(bad[0])
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("MA016");
                assertThat(e.getServerErrorMessage().getMessage()).contains(bad[1]);
              });
    }
  }
}
