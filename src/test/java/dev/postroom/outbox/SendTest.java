package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

class SendTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
    Sql.exec(db.dataSource(), "SELECT mail.add_profile('bulk', 'second profile')");
  }

  @Test
  void sendWithEveryParameterStoresEveryColumn() throws SQLException {
    OffsetDateTime sendAt = OffsetDateTime.now().plusHours(1).truncatedTo(ChronoUnit.SECONDS);
    long id =
        ((Number)
                Sql.one(
                    db.dataSource(),
                    """
                    SELECT mail.send(
                      recipients => 'ann@example.com; Bob <bob@Example.ORG>',
                      subject => 'Invoice 42',
                      body => '<p>Hello</p>',
                      body_format => 'html',
                      profile_name => 'bulk',
                      copy_recipients => '"Doe, Jane" <jane@example.net>',
                      blind_copy_recipients => 'audit@example.com',
                      from_address => 'Billing <billing@shop.example>',
                      reply_to => 'help@shop.example',
                      importance => 'high',
                      sensitivity => 'confidential',
                      headers => '{"X-Invoice": "42"}',
                      attachments => ARRAY[ROW('invoice.pdf', 'application/pdf', '\\x255044462d'::bytea)::mail.attachment_in],
                      send_at => ?,
                      priority => 7,
                      idempotency_key => 'invoice-42')
                    """,
                    sendAt))
            .longValue();

    Map<String, Object> mail =
        Sql.rows(db.dataSource(), "SELECT * FROM mail.outbox WHERE id = ?", id).get(0);
    assertThat(mail)
        .containsEntry("status", "queued")
        .containsEntry("profile_name", "bulk")
        .containsEntry("recipients", "ann@example.com; Bob <bob@Example.ORG>")
        .containsEntry("copy_recipients", "\"Doe, Jane\" <jane@example.net>")
        .containsEntry("blind_copy_recipients", "audit@example.com")
        .containsEntry("subject", "Invoice 42")
        .containsEntry("body", "<p>Hello</p>")
        .containsEntry("body_format", "html")
        .containsEntry("from_address", "Billing <billing@shop.example>")
        .containsEntry("reply_to", "help@shop.example")
        .containsEntry("importance", "high")
        .containsEntry("sensitivity", "confidential")
        .containsEntry("priority", 7)
        .containsEntry("idempotency_key", "invoice-42")
        .containsEntry("attempts", 0)
        .containsEntry("created_by", "postgres")
        .containsEntry("account_id", null)
        .containsEntry("sent_at", null)
        .containsEntry("last_reply_code", null);
    assertThat(mail.get("headers").toString()).isEqualTo("{\"X-Invoice\": \"42\"}");
    assertThat((String) mail.get("message_id")).matches("<[0-9a-f-]{36}@shop\\.example>");
    assertThat(((java.sql.Timestamp) mail.get("send_at")).toInstant())
        .isEqualTo(sendAt.toInstant());
    assertThat(((java.sql.Timestamp) mail.get("next_attempt_at")).toInstant())
        .isEqualTo(sendAt.toInstant());
    assertThat(((java.sql.Timestamp) mail.get("expires_at")).toInstant())
        .isEqualTo(sendAt.plusDays(4).toInstant());
    assertThat((Long) mail.get("size_bytes")).isGreaterThan(20);

    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT kind, address, display_name, domain, status::text, attempts"
                    + " FROM mail.recipient WHERE mail_id = ? ORDER BY id",
                id))
        .containsExactly(
            row("to", "ann@example.com", null, "example.com", "pending", 0),
            row("to", "bob@Example.ORG", "Bob", "example.org", "pending", 0),
            row("cc", "jane@example.net", "Doe, Jane", "example.net", "pending", 0),
            row("bcc", "audit@example.com", null, "example.com", "pending", 0));
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT filename, content_type, encode(content, 'hex') AS hex, size_bytes"
                    + " FROM mail.attachment WHERE mail_id = ?",
                id))
        .containsExactly(
            Map.of(
                "filename", "invoice.pdf",
                "content_type", "application/pdf",
                "hex", "255044462d",
                "size_bytes", 5L));
    assertThat(Sql.rows(db.dataSource(), "SELECT event FROM mail.event_log WHERE mail_id = ?", id))
        .containsExactly(Map.of("event", "queued"));
  }

  @Test
  void theMessageIdTakesTheAccountsDomainWhenNoFromAddressIsGiven() throws SQLException {
    Object id = Sql.one(db.dataSource(), "SELECT mail.send('x@example.org', 'Hi')");
    Object messageId =
        Sql.one(db.dataSource(), "SELECT message_id FROM mail.outbox WHERE id = ?", id);
    assertThat((String) messageId).endsWith("@example.com>");
  }

  @Test
  void aPlainInsertIsValidatedAndExpandedLikeSend() throws SQLException {
    List<Map<String, Object>> inserted =
        Sql.rows(
            db.dataSource(),
            "INSERT INTO mail.outbox (recipients, copy_recipients, subject, body, body_format)"
                + " VALUES ('ann@example.com, Carl <carl@example.com>', 'ann@example.com', 'Hi',"
                + " 'Body', 'TEXT') RETURNING id, status::text, profile_name, body_format");
    long id = (Long) inserted.get(0).get("id");
    assertThat(inserted.get(0))
        .containsEntry("status", "queued")
        .containsEntry("profile_name", "main")
        .containsEntry("body_format", "text");
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT kind, address FROM mail.recipient WHERE mail_id = ? ORDER BY id",
                id))
        .as("a duplicate address is sent once, under its first kind")
        .containsExactly(
            Map.of("kind", "to", "address", "ann@example.com"),
            Map.of("kind", "to", "address", "carl@example.com"));
  }

  @Test
  void aBulkInsertExpandsEveryRow() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "INSERT INTO mail.outbox (recipients, subject, idempotency_key)"
            + " SELECT 'bulk' || g || '@example.com; other' || g || '@example.com', 'n' || g, 'bulk-' || g"
            + " FROM generate_series(1, 500) g");
    assertThat(
            Sql.one(
                db.dataSource(),
                "SELECT count(*) FROM mail.recipient r JOIN mail.outbox o ON o.id = r.mail_id"
                    + " WHERE o.idempotency_key LIKE 'bulk-%'"))
        .isEqualTo(1000L);
  }

  @Test
  void copyIntoTheOutboxIsValidatedAndExpandedToo() throws Exception {
    try (Connection c = db.dataSource().getConnection()) {
      long rows =
          c.unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn(
                  "COPY mail.outbox (recipients, subject) FROM STDIN (FORMAT csv)",
                  new java.io.StringReader(
                      "copy1@example.com,first\n\"Copy Two <copy2@example.com>; copy3@example.com\",second\n"));
      assertThat(rows).isEqualTo(2);
    }
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT r.address FROM mail.recipient r JOIN mail.outbox o ON o.id = r.mail_id"
                    + " WHERE r.address LIKE 'copy%' ORDER BY r.id"))
        .extracting(r -> r.get("address"))
        .containsExactly("copy1@example.com", "copy2@example.com", "copy3@example.com");
  }

  @Test
  void aRolledBackTransactionLeavesNothing() throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute(
            "SELECT mail.send('ann@example.com', 'Hi', attachments =>"
                + " ARRAY[ROW('a.txt', 'text/plain', 'x'::bytea)::mail.attachment_in])");
      }
      c.rollback();
    }
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
  }

  @Test
  void aTransactionWakesDispatchersWithOneNotification() throws Exception {
    try (Connection listener = db.connect();
        Connection sender = db.dataSource().getConnection()) {
      try (Statement st = listener.createStatement()) {
        st.execute("LISTEN mail_queued");
      }
      sender.setAutoCommit(false);
      try (Statement st = sender.createStatement()) {
        st.execute("SELECT mail.send('a@example.com', 'one')");
        st.execute("SELECT mail.send('b@example.com', 'two')");
        st.execute(
            "INSERT INTO mail.outbox (recipients, subject)"
                + " SELECT 'c' || g || '@example.com', 'bulk' FROM generate_series(1, 50) g");
      }
      assertThat(notifications(listener)).as("nothing before commit").isEmpty();
      sender.commit();
      List<PGNotification> received = new java.util.ArrayList<>();
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (received.isEmpty() && System.nanoTime() < deadline) {
        received.addAll(notifications(listener));
      }
      received.addAll(notifications(listener));
      assertThat(received).hasSize(1);
      assertThat(received.get(0).getName()).isEqualTo("mail_queued");
      assertThat(received.get(0).getParameter()).isEmpty();
    }
  }

  @Test
  void recipientsOnTheSuppressionListAreRecordedAsSuppressed() throws SQLException {
    Sql.exec(db.dataSource(), "SELECT mail.suppress('Gone <gone@example.com>', 'mailbox closed')");
    long partly =
        ((Number)
                Sql.one(
                    db.dataSource(),
                    "SELECT mail.send('GONE@example.com; here@example.com', 'partly')"))
            .longValue();
    long wholly =
        ((Number) Sql.one(db.dataSource(), "SELECT mail.send('gone@example.com', 'wholly')"))
            .longValue();

    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT address, status::text FROM mail.recipient WHERE mail_id = ? ORDER BY id",
                partly))
        .containsExactly(
            Map.of("address", "GONE@example.com", "status", "suppressed"),
            Map.of("address", "here@example.com", "status", "pending"));
    assertThat(
            Sql.one(db.dataSource(), "SELECT status::text FROM mail.outbox WHERE id = ?", partly))
        .isEqualTo("queued");
    assertThat(
            Sql.one(db.dataSource(), "SELECT status::text FROM mail.outbox WHERE id = ?", wholly))
        .isEqualTo("failed");
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT event FROM mail.event_log WHERE mail_id = ? ORDER BY id",
                wholly))
        .containsExactly(
            Map.of("event", "queued"), Map.of("event", "suppressed"), Map.of("event", "failed"));
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT address, reason FROM mail.suppressed_addresses WHERE address LIKE 'gone@%'"))
        .containsExactly(Map.of("address", "gone@example.com", "reason", "mailbox closed"));
  }

  @Test
  void unsuppressingAnAddressRestoresSendingToIt() throws SQLException {
    assertThat(Sql.one(db.dataSource(), "SELECT mail.suppress('back@example.com')"))
        .isEqualTo(true);
    assertThat(Sql.one(db.dataSource(), "SELECT mail.suppress('BACK@example.com', 'again')"))
        .as("already listed")
        .isEqualTo(false);
    assertThat(Sql.one(db.dataSource(), "SELECT mail.unsuppress('Back <back@example.com>')"))
        .isEqualTo(true);
    assertThat(Sql.one(db.dataSource(), "SELECT mail.unsuppress('back@example.com')"))
        .isEqualTo(false);
    Object id = Sql.one(db.dataSource(), "SELECT mail.send('back@example.com', 'welcome back')");
    assertThat(
            Sql.one(
                db.dataSource(), "SELECT status::text FROM mail.recipient WHERE mail_id = ?", id))
        .isEqualTo("pending");
  }

  private static List<PGNotification> notifications(Connection listener) throws SQLException {
    PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(100);
    return got == null ? List.of() : List.of(got);
  }

  private static Map<String, Object> row(
      String kind, String address, String name, String domain, String status, int attempts) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("kind", kind);
    m.put("address", address);
    m.put("display_name", name);
    m.put("domain", domain);
    m.put("status", status);
    m.put("attempts", attempts);
    return m;
  }
}
