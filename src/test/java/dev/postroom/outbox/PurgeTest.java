package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

class PurgeTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeEach
  void mailsOfEveryAge() throws SQLException {
    Sql.exec(
        db.dataSource(),
        "TRUNCATE mail.outbox, mail.event_log, mail.profile, mail.account CASCADE",
        "SELECT mail.add_profile('main', is_default => true)");
    // old and new mails in each finished state, plus old ones still queued
    for (String age : List.of("old", "new")) {
      for (String status : List.of("sent", "failed", "cancelled", "queued")) {
        Sql.exec(
            db.dataSource(),
            "SELECT mail.attach(mail.send('"
                + status
                + "@example.com', '"
                + age
                + "'),"
                + " 'a.txt', 'text/plain', 'x'::bytea)");
      }
    }
    Sql.exec(
        db.dataSource(),
        "UPDATE mail.outbox SET status = split_part(recipients, '@', 1)::mail.mail_status",
        "UPDATE mail.outbox SET created_at = now() - interval '40 days' WHERE subject = 'old'",
        "UPDATE mail.event_log SET logged_at = now() - interval '40 days'"
            + " WHERE mail_id IN (SELECT id FROM mail.outbox WHERE subject = 'old')");
  }

  @Test
  void purgeDeletesOldFinishedMailsWithTheirRowsAndKeepsTheRest() throws SQLException {
    assertThat(Sql.one(db.dataSource(), "SELECT mail.purge(now() - interval '30 days')"))
        .isEqualTo(3L);
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT subject || ' ' || status AS mail FROM mail.outbox ORDER BY id"))
        .extracting(r -> r.get("mail"))
        .containsExactly("old queued", "new sent", "new failed", "new cancelled", "new queued");
    assertThat(Sql.count(db.dataSource(), "mail.recipient")).isEqualTo(5);
    assertThat(Sql.count(db.dataSource(), "mail.attachment")).isEqualTo(5);
    assertThat(Sql.count(db.dataSource(), "mail.event_log"))
        .as("the log outlives the mails, as in Database Mail")
        .isEqualTo(8);
  }

  @Test
  void purgeWithAStatusDeletesOnlyThatStatus() throws SQLException {
    assertThat(Sql.one(db.dataSource(), "SELECT mail.purge(now(), 'queued')")).isEqualTo(2L);
    assertThat(Sql.one(db.dataSource(), "SELECT count(*) FROM mail.outbox WHERE status = 'queued'"))
        .isEqualTo(0L);
    assertThat(Sql.count(db.dataSource(), "mail.outbox")).isEqualTo(6);
    assertThatThrownBy(() -> Sql.exec(db.dataSource(), "SELECT mail.purge(now(), 'gone')"))
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("22023");
              assertThat(e.getServerErrorMessage().getMessage()).contains("gone");
            });
  }

  @Test
  void purgeLogDeletesOnlyOlderEvents() throws SQLException {
    assertThat(Sql.one(db.dataSource(), "SELECT mail.purge_log(now() - interval '30 days')"))
        .isEqualTo(4L);
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT count(*) AS n FROM mail.event_log WHERE logged_at < now() - interval '1 day'"))
        .containsExactly(Map.of("n", 0L));
    assertThat(Sql.count(db.dataSource(), "mail.event_log")).isEqualTo(4);
  }
}
