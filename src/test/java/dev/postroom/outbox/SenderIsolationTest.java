package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.app.QueueGauges;
import dev.postroom.testing.SenderLogin;
import dev.postroom.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/**
 * Issue 12, finding 1: a sender logged in as itself cannot write a value that stalls the claim or
 * the queue summary for everyone, and cancels, retries and purges only its own mail.
 */
class SenderIsolationTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @RegisterExtension static final SenderLogin mallory = new SenderLogin(db, "mallory");
  @RegisterExtension static final SenderLogin victim = new SenderLogin(db, "victim");

  @BeforeAll
  static void profile() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
  }

  @Test
  void aSenderCannotUpdateOrDeleteItsOwnRowsNorWriteTheEventLog() throws SQLException {
    long own = send(mallory, "own");
    List<Object> before = snapshot(own);
    try (Connection c = mallory.connect()) {
      for (String sql :
          List.of(
              "UPDATE mail.outbox SET attempts = 2147483647 WHERE id = " + own,
              "UPDATE mail.outbox SET next_attempt_at = '-infinity' WHERE id = " + own,
              "UPDATE mail.outbox SET expires_at = 'infinity' WHERE id = " + own,
              "UPDATE mail.outbox SET status = 'queued' WHERE id = " + own,
              "DELETE FROM mail.outbox WHERE id = " + own,
              "UPDATE mail.recipient SET status = 'pending' WHERE mail_id = " + own,
              "DELETE FROM mail.recipient WHERE mail_id = " + own,
              "UPDATE mail.attachment SET size_bytes = 0 WHERE mail_id = " + own,
              "DELETE FROM mail.attachment WHERE mail_id = " + own,
              "INSERT INTO mail.event_log (mail_id, event) VALUES (" + own + ", 'delivered')",
              "INSERT INTO mail.event_log (event) VALUES ('retention_purge')",
              "UPDATE mail.event_log SET event = 'x' WHERE mail_id = " + own,
              "DELETE FROM mail.event_log WHERE mail_id = " + own,
              "SELECT nextval(pg_get_serial_sequence('mail.account', 'id'))",
              "SELECT nextval(pg_get_serial_sequence('mail.outbox', 'id'))")) {
        assertThatThrownBy(() -> execute(c, sql))
            .as(sql)
            .isInstanceOfSatisfying(
                PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      }
    }
    assertThat(snapshot(own)).as("nothing changed").isEqualTo(before);
  }

  @Test
  void theClaimKeepsWorkingForOthersWhateverValueIsStored() throws SQLException {
    long victims = send(victim, "victim's mail");
    long hostile = send(mallory, "hostile");
    // Values no sender can write any more, stored the only way left (as the schema owner), to prove
    // the claim and the summaries are robust to them anyway.
    Sql.exec(
        db.dataSource(),
        "UPDATE mail.outbox SET attempts = 2147483647, next_attempt_at = '-infinity',"
            + " expires_at = 'infinity', priority = 2147483647 WHERE id = "
            + hostile);
    ClaimStore claims = new ClaimStore(db.jdbi());
    List<ClaimedMail> claimed = claims.claim("d1", 100, Instant.now(), Duration.ofMinutes(5));
    assertThat(claimed).extracting(ClaimedMail::id).contains(victims, hostile);
    assertThat(Sql.one(db.dataSource(), "SELECT attempts FROM mail.outbox WHERE id = ?", hostile))
        .as("saturated, not overflowed")
        .isEqualTo(2147483647);
    claims.release(claimed, Instant.now());
    Sql.exec(
        db.dataSource(),
        "UPDATE mail.outbox SET next_attempt_at = '-infinity' WHERE id = " + hostile);

    assertThat(Sql.rows(db.dataSource(), "SELECT due, oldest_due_age FROM mail.queue_status"))
        .singleElement()
        .satisfies(r -> assertThat((Long) r.get("due")).isGreaterThanOrEqualTo(2));
    try (QueueGauges gauges =
        new QueueGauges(db.dataSource(), new SimpleMeterRegistry(), Duration.ofHours(1))) {
      QueueGauges.QueueSnapshot snapshot = gauges.refresh();
      assertThat(snapshot.due()).isGreaterThanOrEqualTo(2);
      assertThat(snapshot.oldestDueAge()).isGreaterThan(Duration.ofDays(365 * 1000));
    }
    try (Connection c = victim.connect()) {
      assertThat(Sql.rows(c, "SELECT due FROM mail.queue_status"))
          .containsExactly(Map.of("due", 1L));
    }
    Sql.exec(
        db.dataSource(), "DELETE FROM mail.outbox WHERE id IN (" + victims + ", " + hostile + ")");
  }

  @Test
  void infiniteOrOutOfRangeSendAtIsRefusedAndNothingIsWritten() throws SQLException {
    List<Long> before = Sql.footprint(db.dataSource());
    try (Connection c = mallory.connect()) {
      for (String when : List.of("infinity", "-infinity", "0044-03-15 BC", "20000-01-01")) {
        assertThatThrownBy(() ->
                Sql.rows(c, "SELECT mail.send('a@example.com', send_at => ?::timestamptz)", when))
            .as(when)
            .isInstanceOfSatisfying(
                PSQLException.class,
                e -> {
                  assertThat(e.getSQLState()).isEqualTo("22008");
                  assertThat(e.getServerErrorMessage().getMessage()).contains("send_at");
                });
        assertThatThrownBy(() ->
                Sql.rows(
                    c,
                    "INSERT INTO mail.outbox (recipients, send_at) VALUES ('a@example.com',"
                        + " ?::timestamptz) RETURNING id",
                    when))
            .isInstanceOfSatisfying(
                PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22008"));
      }
    }
    assertThat(Sql.footprint(db.dataSource())).isEqualTo(before);
  }

  @Test
  void cancelRetryAndPurgeTouchOnlyTheCallersOwnMail() throws SQLException {
    long victims = send(victim, "keep me");
    long own = send(mallory, "mine");
    try (Connection c = mallory.connect()) {
      assertThat(Outbox.cancel(c, victims)).isFalse();
      assertThat(Outbox.cancel(c, own)).isTrue();
    }
    Sql.exec(db.dataSource(), "UPDATE mail.outbox SET status = 'failed' WHERE id = " + victims);
    try (Connection c = mallory.connect()) {
      assertThat(Outbox.retry(c, victims)).isFalse();
      assertThat(Sql.one(c, "SELECT mail.purge(now() + interval '1 day', 'failed')")).isEqualTo(0L);
      assertThat(Outbox.retry(c, own)).isTrue();
      assertThat(Outbox.cancel(c, own)).isTrue();
      assertThat(Sql.one(c, "SELECT mail.purge(now() + interval '1 day')")).isEqualTo(1L);
    }
    assertThat(
            Sql.rows(db.dataSource(), "SELECT status::text FROM mail.outbox WHERE id = ?", victims))
        .containsExactly(Map.of("status", "failed"));
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT event FROM mail.event_log WHERE mail_id = ? ORDER BY id",
                victims))
        .extracting(r -> r.get("event"))
        .containsExactly("queued");
    Sql.exec(db.dataSource(), "DELETE FROM mail.outbox WHERE id = " + victims);
  }

  @Test
  void theCallerIsTheSetRoleNotTheSessionsSuperuser() throws SQLException {
    long victims = send(victim, "keep me too");
    try (Connection c = db.connect();
        Statement st = c.createStatement()) {
      st.execute("SET ROLE " + mallory.name());
      assertThat(Outbox.cancel(c, victims)).isFalse();
      st.execute("RESET ROLE");
      st.execute("SET ROLE " + victim.name());
      assertThat(Outbox.cancel(c, victims)).isTrue();
    }
  }

  @Test
  void aSenderIsToldNothingAboutAnotherSendersMailWhenAttaching() throws SQLException {
    long victims = send(victim, "private");
    long missing = victims + 1_000_000;
    Object size =
        Sql.one(db.dataSource(), "SELECT size_bytes FROM mail.outbox WHERE id = ?", victims);
    try (Connection c = mallory.connect()) {
      for (long id : List.of(victims, missing)) {
        for (String sql :
            List.of(
                "SELECT mail.attach(?, 'x.txt', 'text/plain', 'x'::bytea)",
                "INSERT INTO mail.attachment (mail_id, filename, content) VALUES (?, 'x.txt',"
                    + " 'x'::bytea) RETURNING id")) {
          assertThatThrownBy(() -> Sql.rows(c, sql, id))
              .isInstanceOfSatisfying(
                  PSQLException.class,
                  e -> {
                    assertThat(e.getSQLState()).isEqualTo("MA014");
                    assertThat(e.getServerErrorMessage().getMessage())
                        .isEqualTo("mail " + id + " not found");
                  });
        }
      }
    }
    assertThat(Sql.one(db.dataSource(), "SELECT size_bytes FROM mail.outbox WHERE id = ?", victims))
        .as("the size is not touched")
        .isEqualTo(size);
  }

  private static long send(SenderLogin who, String subject) throws SQLException {
    try (Connection c = who.connect()) {
      long id =
          Outbox.send(
              c, OutgoingMail.builder().recipients("ann@example.com").subject(subject).build());
      Sql.rows(c, "SELECT mail.attach(?, 'note.txt', 'text/plain', 'hi'::bytea)", id);
      return id;
    }
  }

  private static List<Object> snapshot(long id) throws SQLException {
    return List.of(
        Sql.rows(db.dataSource(), "SELECT * FROM mail.outbox WHERE id = ?", id),
        Sql.rows(db.dataSource(), "SELECT * FROM mail.recipient WHERE mail_id = ?", id),
        Sql.rows(
            db.dataSource(), "SELECT id, size_bytes FROM mail.attachment WHERE mail_id = ?", id),
        Sql.rows(db.dataSource(), "SELECT * FROM mail.event_log WHERE mail_id = ?", id));
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
