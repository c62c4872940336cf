package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;

/** Every refusal at enqueue: its SQLSTATE, a message naming the bad value, and no rows left. */
class ValidationTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        refused("empty recipients", "SELECT mail.send(' ; ', 'x')", "MA001", "no recipients"),
        refused("all lists null", "SELECT mail.send(NULL, 'x')", "MA001", "no recipients"),
        refused(
            "invalid address", "SELECT mail.send('ann@example.com; bob@', 'x')", "MA002", "bob@"),
        refused(
            "invalid cc address",
            "SELECT mail.send('a@example.com', copy_recipients => 'two words@example.com')",
            "MA002",
            "two words@example.com"),
        refused(
            "unbalanced quote",
            "SELECT mail.send('\"Ann <ann@example.com>', 'x')",
            "MA002",
            "\"Ann <ann@example.com>"),
        refused(
            "invalid from address",
            "SELECT mail.send('a@example.com', from_address => 'not-an-address')",
            "MA002",
            "not-an-address"),
        refused(
            "line break in an address",
            "SELECT mail.send(E'a@example.com\\r\\nBcc: x@evil.example', 'x')",
            "MA003",
            "Bcc: x@evil.example"),
        refused(
            "line break in the subject",
            "SELECT mail.send('a@example.com', E'Hi\\nBcc: x@evil.example')",
            "MA003",
            "subject"),
        refused(
            "line break in a header value",
            "SELECT mail.send('a@example.com', headers => '{\"X-A\": \"1\\r\\nBcc: x@evil.example\"}')",
            "MA003",
            "header X-A"),
        refused(
            "line break in reply_to",
            "SELECT mail.send('a@example.com', reply_to => E'r@example.com\\nX: y')",
            "MA003",
            "reply_to"),
        refused(
            "unknown profile",
            "SELECT mail.send('a@example.com', profile_name => 'nope')",
            "MA004",
            "nope"),
        refused(
            "prohibited extension",
            "SELECT mail.send('a@example.com', attachments =>"
                + " ARRAY[ROW('setup.EXE', 'application/octet-stream', 'MZ'::bytea)::mail.attachment_in])",
            "MA006",
            "setup.EXE"),
        refused(
            "prohibited extension behind a trailing dot",
            "SELECT mail.send('a@example.com', attachments =>"
                + " ARRAY[ROW('run.bat.', 'text/plain', 'x'::bytea)::mail.attachment_in])",
            "MA006",
            "run.bat."),
        refused(
            "message over max_message_bytes",
            "SELECT mail.send('a@example.com', 'big', repeat('x', 26214401))",
            "MA007",
            "26214400"),
        refused(
            "a size limit lifted by a session parameter mid-statement",
            "INSERT INTO mail.outbox (recipients, body) SELECT 'a@example.com',"
                + " set_config('postroom.max_message_bytes', '999999999', true) || repeat('x', 26214401)",
            "MA007",
            "26214400"),
        refused(
            "attachments over max_message_bytes",
            "SELECT mail.send('a@example.com', attachments =>"
                + " ARRAY[ROW('a.bin', NULL, decode(repeat('00', 20000000), 'hex'))::mail.attachment_in])",
            "MA007",
            "a.bin"),
        refused(
            "bad body_format",
            "SELECT mail.send('a@example.com', body_format => 'markdown')",
            "MA008",
            "markdown"),
        refused(
            "bad importance",
            "SELECT mail.send('a@example.com', importance => 'urgent')",
            "MA009",
            "urgent"),
        refused(
            "bad sensitivity",
            "SELECT mail.send('a@example.com', sensitivity => 'secret')",
            "MA010",
            "secret"),
        refused(
            "owned header From",
            "SELECT mail.send('a@example.com', headers => '{\"From\": \"x@evil.example\"}')",
            "MA011",
            "From"),
        refused(
            "owned header Content-Type",
            "SELECT mail.send('a@example.com', headers => '{\"content-type\": \"text/plain\"}')",
            "MA011",
            "content-type"),
        refused(
            "owned header Message-ID",
            "SELECT mail.send('a@example.com', headers => '{\"Message-ID\": \"<x@y>\"}')",
            "MA011",
            "Message-ID"),
        refused(
            "headers not an object",
            "SELECT mail.send('a@example.com', headers => '[1]')",
            "MA011",
            "array"),
        refused(
            "invalid header name",
            "SELECT mail.send('a@example.com', headers => '{\"X Bad\": \"1\"}')",
            "MA011",
            "X Bad"),
        refused(
            "bad value through the insert path",
            "INSERT INTO mail.outbox (recipients, importance) VALUES ('a@example.com', 'urgent')",
            "MA009",
            "urgent"));
  }

  private static Arguments refused(String what, String sql, String sqlState, String named) {
    return Arguments.of(what, sql, sqlState, named);
  }

  @ParameterizedTest(name = "{0} is refused with {2}")
  @MethodSource("refusals")
  void badInputIsRefusedWithItsSqlStateAndLeavesNoRows(
      String what, String sql, String sqlState, String named) throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    assertThatThrownBy(() -> Sql.exec(db.dataSource(), sql))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo(sqlState);
              assertThat(e.getServerErrorMessage().getMessage()).contains(named);
            });
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
  }

  @Test
  void withoutADefaultProfileASendNamingNoProfileIsRefused() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("UPDATE mail.profile SET is_default = false");
        assertThatThrownBy(() -> st.execute("SELECT mail.send('a@example.com', 'x')"))
            .isInstanceOfSatisfying(
                PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA005"));
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void aBadRowInABulkInsertRefusesTheWholeStatement() throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    assertThatThrownBy(() ->
            Sql.exec(
                db.dataSource(),
                "INSERT INTO mail.outbox (recipients, subject) VALUES"
                    + " ('ok1@example.com', 'a'), ('ok2@example.com', 'b'), ('broken@', 'c')"))
        .isInstanceOfSatisfying(
            PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA002"));
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
  }

  @Test
  void extraHeadersTheComposerAllowsAreAccepted() throws SQLException {
    Object id =
        Sql.one(
            db.dataSource(),
            "SELECT mail.send('a@example.com', headers =>"
                + " '{\"X-Priority\": \"1\", \"List-Unsubscribe\": \"<mailto:u@example.com>\"}')");
    assertThat(
            Sql.one(
                db.dataSource(), "SELECT headers->>'X-Priority' FROM mail.outbox WHERE id = ?", id))
        .isEqualTo("1");
  }

  @Test
  void internationalisedAddressesAreAccepted() throws SQLException {
    Object id =
        Sql.one(db.dataSource(), "SELECT mail.send('Jürgen <jürgen@bücher.example>', 'Grüße')");
    Object domain =
        Sql.one(db.dataSource(), "SELECT domain FROM mail.recipient WHERE mail_id = ?", id);
    assertThat(domain).isEqualTo("bücher.example");
  }
}
