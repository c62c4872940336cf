package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.SenderLogin;
import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;

/**
 * Issue 12: hostile input from a sender logged in as itself. Each is refused at enqueue with its
 * SQLSTATE and a message naming the bad value, and nothing is written.
 */
class HostileInputTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @RegisterExtension static final SenderLogin sender = new SenderLogin(db, "hostile");

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        refused(
            "Sender header",
            "SELECT mail.send('a@example.com', headers => '{\"Sender\": \"ceo@example.com\"}')",
            "MA011",
            "Sender"),
        refused(
            "Resent-From header",
            "SELECT mail.send('a@example.com', headers => '{\"Resent-From\": \"x@example.com\"}')",
            "MA011",
            "Resent-From"),
        refused(
            "DKIM-Signature header",
            "SELECT mail.send('a@example.com', headers => '{\"DKIM-Signature\": \"v=1\"}')",
            "MA011",
            "DKIM-Signature"),
        refused(
            "Received header",
            "SELECT mail.send('a@example.com', headers => '{\"received\": \"from x\"}')",
            "MA011",
            "received"),
        refused(
            "Authentication-Results header",
            "SELECT mail.send('a@example.com', headers =>"
                + " '{\"Authentication-Results\": \"mx; dkim=pass\"}')",
            "MA011",
            "Authentication-Results"),
        refused(
            "ARC header",
            "SELECT mail.send('a@example.com', headers => '{\"ARC-Seal\": \"i=1\"}')",
            "MA011",
            "ARC-Seal"),
        refused(
            "content type parameters",
            "SELECT mail.send('a@example.com', attachments => ARRAY[ROW('a.txt',"
                + " 'text/plain; name=\"evil.exe\"', 'x'::bytea)::mail.attachment_in])",
            "MA017",
            "name=\"evil.exe\""),
        refused(
            "zero-width space hiding an extension",
            "SELECT mail.send('a@example.com', attachments => ARRAY[ROW(E'run.exe\\u200B',"
                + " NULL, 'x'::bytea)::mail.attachment_in])",
            "MA017",
            "U+200B"),
        refused(
            "no-break space at the end",
            "SELECT mail.send('a@example.com', attachments => ARRAY[ROW(E'run.exe\\u00A0',"
                + " NULL, 'x'::bytea)::mail.attachment_in])",
            "MA017",
            "U+00A0"),
        refused(
            "line separator",
            "SELECT mail.send('a@example.com', attachments => ARRAY[ROW(E'a\\u2028b.txt',"
                + " NULL, 'x'::bytea)::mail.attachment_in])",
            "MA017",
            "U+2028"),
        refused(
            "right-to-left override",
            "SELECT mail.send('a@example.com', attachments => ARRAY[ROW(E'invoice\\u202Etxt.exe',"
                + " NULL, 'x'::bytea)::mail.attachment_in])",
            "MA017",
            "U+202E"),
        refused(
            "infinite send_at",
            "SELECT mail.send('a@example.com', send_at => 'infinity')",
            "22008",
            "send_at"),
        refused(
            "C0 control character in an address",
            "SELECT mail.send(E'a\\u0007b@example.com')",
            "MA002",
            "b@example.com"),
        refused(
            "control character in a header name",
            "SELECT mail.send('a@example.com', headers => '{\"X-\\u0007\": \"1\"}')",
            "MA011",
            "X-"));
  }

  private static Arguments refused(String what, String sql, String state, String mention) {
    return Arguments.of(what, sql, state, mention);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void refusedWithItsSqlStateAndNothingWritten(
      String what, String sql, String state, String mention) throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    try (Connection c = sender.connect()) {
      assertThatThrownBy(() -> Sql.rows(c, sql))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo(state);
                assertThat(e.getServerErrorMessage().getMessage()).contains(mention);
              });
    }
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
  }

  @Test
  void oneHundredThousandRecipientsAreRefusedByMaxRecipients() throws SQLException {
    String list =
        IntStream.range(0, 100_000)
            .mapToObj(i -> "r" + i + "@example.com")
            .collect(Collectors.joining(";"));
    List<Long> before = Sql.footprint(db.dataSource());
    try (Connection c = sender.connect()) {
      assertThatThrownBy(() -> Sql.rows(c, "SELECT mail.send(?)", list))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("MA007");
                assertThat(e.getServerErrorMessage().getMessage())
                    .contains("100000 recipients", "max_recipients (1000)");
              });
      String thousand =
          IntStream.range(0, 1000)
              .mapToObj(i -> "k" + i + "@example.com")
              .collect(Collectors.joining(","));
      assertThat(Sql.one(c, "SELECT mail.send(?)", thousand)).isNotNull();
    }
    assertThat(Sql.footprint(db.dataSource()).get(0)).isEqualTo(before.get(0) + 1);
  }

  @Test
  void maxMessageBytesCountsAddressesDisplayNamesAndAttachmentHeaders() throws SQLException {
    Sql.exec(db.dataSource(), "SELECT mail.configure('max_message_bytes', '2000')");
    try (Connection c = sender.connect()) {
      String longName = "\"" + "N".repeat(2500) + "\" <a@example.com>";
      assertThatThrownBy(() -> Sql.rows(c, "SELECT mail.send(?)", longName))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA007"));
      assertThatThrownBy(
              () -> Sql.rows(c, "SELECT mail.send('a@example.com', reply_to => ?)", longName))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA007"));
      long id = (Long) Sql.one(c, "SELECT mail.send('a@example.com')");
      // Empty attachments with long names still take room in the message.
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "SELECT mail.attach(?, ?, 'text/plain', ''::bytea) FROM generate_series(1, 10)",
                  id,
                  "f".repeat(200) + ".txt"))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA007"));
    } finally {
      Sql.exec(db.dataSource(), "SELECT mail.configure('max_message_bytes', NULL)");
    }
  }

  @Test
  void hugeHeadersAreRefusedBySize() throws SQLException {
    try (Connection c = sender.connect()) {
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "SELECT mail.send('a@example.com', headers =>"
                      + " (SELECT jsonb_object_agg('X-H' || i, repeat('v', 1000))"
                      + " FROM generate_series(1, 30000) i))"))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("MA007");
                assertThat(e.getServerErrorMessage().getMessage()).contains("max_message_bytes");
              });
    }
  }

  @Test
  void negativeAndExtremePrioritiesAreAcceptedAndStillOrdered() throws SQLException {
    try (Connection c = sender.connect()) {
      long low = (Long) Sql.one(c, "SELECT mail.send('a@example.com', priority => -2147483648)");
      long high = (Long) Sql.one(c, "SELECT mail.send('a@example.com', priority => 2147483647)");
      assertThat(
              Sql.rows(
                  c,
                  "SELECT id FROM mail.outbox WHERE id IN (?, ?) ORDER BY priority DESC",
                  low,
                  high))
          .extracting(r -> r.get("id"))
          .containsExactly(high, low);
    }
  }
}
