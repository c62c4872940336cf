package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.outbox.OutgoingMail.BodyFormat;
import dev.postroom.outbox.OutgoingMail.Importance;
import dev.postroom.outbox.OutgoingMail.Sensitivity;
import dev.postroom.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OutboxTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
  }

  @Test
  void aMailBuiltInJavaArrivesWithEveryField() throws SQLException {
    Instant sendAt = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS);
    OutgoingMail mail =
        OutgoingMail.builder()
            .recipients("Ann <ann@example.com>")
            .copyRecipients("cc@example.com")
            .blindCopyRecipients("bcc@example.com")
            .subject("Report")
            .body("<b>see attached</b>")
            .bodyFormat(BodyFormat.HTML)
            .profileName("main")
            .fromAddress("reports@example.com")
            .replyTo("help@example.com")
            .importance(Importance.LOW)
            .sensitivity(Sensitivity.PRIVATE)
            .header("X-Report", "weekly \"numbers\"")
            .attachment("a.csv", "text/csv", "a,b\r\n".getBytes(StandardCharsets.UTF_8))
            .attachment("b.txt", null, new byte[] {1, 2, 3})
            .sendAt(sendAt)
            .priority(3)
            .idempotencyKey("weekly-1")
            .build();
    long id = db.jdbi().withHandle(h -> Outbox.send(h, mail));

    Map<String, Object> row =
        Sql.rows(db.dataSource(), "SELECT * FROM mail.outbox WHERE id = ?", id).get(0);
    assertThat(row)
        .containsEntry("recipients", "Ann <ann@example.com>")
        .containsEntry("copy_recipients", "cc@example.com")
        .containsEntry("blind_copy_recipients", "bcc@example.com")
        .containsEntry("subject", "Report")
        .containsEntry("body_format", "html")
        .containsEntry("profile_name", "main")
        .containsEntry("from_address", "reports@example.com")
        .containsEntry("reply_to", "help@example.com")
        .containsEntry("importance", "low")
        .containsEntry("sensitivity", "private")
        .containsEntry("priority", 3)
        .containsEntry("idempotency_key", "weekly-1");
    assertThat(((java.sql.Timestamp) row.get("send_at")).toInstant()).isEqualTo(sendAt);
    assertThat(
            Sql.one(
                db.dataSource(), "SELECT headers->>'X-Report' FROM mail.outbox WHERE id = ?", id))
        .isEqualTo("weekly \"numbers\"");
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT filename, content_type, size_bytes FROM mail.attachment WHERE mail_id = ?"
                    + " ORDER BY id",
                id))
        .containsExactly(
            Map.of("filename", "a.csv", "content_type", "text/csv", "size_bytes", 5L),
            Map.of(
                "filename", "b.txt", "content_type", "application/octet-stream", "size_bytes", 3L));
  }

  @Test
  void aJavaSendRollsBackWithTheCallersTransaction() throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      Outbox.send(c, OutgoingMail.builder().recipients("x@example.com").subject("s").build());
      c.rollback();
    }
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
    long id =
        db.jdbi()
            .inTransaction((Handle h) ->
                Outbox.send(h, OutgoingMail.builder().recipients("y@example.com").build()));
    assertThat(Sql.one(db.dataSource(), "SELECT recipients FROM mail.outbox WHERE id = ?", id))
        .isEqualTo("y@example.com");
  }

  @Test
  void aRefusalCarriesItsSqlStateAndTheServersMessage() {
    OutgoingMail bad =
        OutgoingMail.builder().recipients("ann@example.com, broken@").subject("s").build();
    assertThatThrownBy(() -> db.jdbi().withHandle(h -> Outbox.send(h, bad)))
        .isInstanceOfSatisfying(
            OutboxException.class,
            e -> {
              assertThat(e.sqlState()).isEqualTo("MA002");
              assertThat(e.getMessage())
                  .isEqualTo("invalid address in recipients: broken@ [SQLSTATE MA002]");
              for (Throwable t = e; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage()))
                    .as("no bound value but the bad one, anywhere in the chain")
                    .doesNotContain("ann@example.com");
              }
            });
  }

  @Test
  void cancelStopsAQueuedMailAndRetryRequeuesIt() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      long id = Outbox.send(c, OutgoingMail.builder().recipients("z@example.com").build());
      assertThat(Outbox.cancel(c, id)).isTrue();
      assertThat(Outbox.cancel(c, id)).as("already cancelled").isFalse();
      assertThat(Outbox.retry(c, id)).isTrue();
      assertThat(Sql.one(db.dataSource(), "SELECT status::text FROM mail.outbox WHERE id = ?", id))
          .isEqualTo("queued");
      assertThat(
              Sql.rows(
                  db.dataSource(),
                  "SELECT event FROM mail.event_log WHERE mail_id = ? ORDER BY id",
                  id))
          .containsExactly(
              Map.of("event", "queued"), Map.of("event", "cancelled"), Map.of("event", "retried"));
    }
  }
}
