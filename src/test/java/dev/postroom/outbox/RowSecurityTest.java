package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/** Database Mail shows a user only their own items; so does Postroom, by row security. */
class RowSecurityTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final String ALICE = "postroom_test_alice";
  private static final String BOB = "postroom_test_bob";
  private static final String NOBODY = "postroom_test_nobody";
  private static long alicesMail;
  private static long bobsMail;

  @BeforeAll
  static void twoSenders() throws SQLException {
    Sql.createDefaultProfile(db.dataSource());
    Sql.ensureSender(db.dataSource(), ALICE);
    Sql.ensureSender(db.dataSource(), BOB);
    Sql.exec(
        db.dataSource(),
        "DO $$ BEGIN CREATE ROLE "
            + NOBODY
            + " NOLOGIN; EXCEPTION WHEN duplicate_object OR"
            + " unique_violation THEN NULL; END $$");
    alicesMail = sendAs(ALICE, "ann@example.com", "from alice");
    bobsMail = sendAs(BOB, "bert@example.com", "from bob");
  }

  @Test
  void aSenderSeesOnlyItsOwnMailsRecipientsAttachmentsEventsAndItems() throws SQLException {
    try (Connection c = as(ALICE)) {
      assertThat(ids(c, "SELECT id FROM mail.outbox"))
          .contains(alicesMail)
          .doesNotContain(bobsMail);
      assertThat(ids(c, "SELECT mail_id FROM mail.recipient"))
          .contains(alicesMail)
          .doesNotContain(bobsMail);
      assertThat(ids(c, "SELECT mail_id FROM mail.attachment"))
          .contains(alicesMail)
          .doesNotContain(bobsMail);
      assertThat(ids(c, "SELECT DISTINCT mail_id FROM mail.event_log"))
          .contains(alicesMail)
          .doesNotContain(bobsMail);
      assertThat(ids(c, "SELECT id FROM mail.all_items"))
          .contains(alicesMail)
          .doesNotContain(bobsMail);
      assertThat(ids(c, "SELECT id FROM mail.unsent_items"))
          .contains(alicesMail)
          .doesNotContain(bobsMail);
      assertThat(Sql.rows(c, "SELECT queued FROM mail.queue_status"))
          .as("counts only its own queued mails")
          .containsExactly(
              Map.of("queued", (long) ids(c, "SELECT id FROM mail.unsent_items").size()));
      assertThat(ids(c, "SELECT id FROM mail.unsent_items")).allMatch(id -> id != bobsMail);
    }
  }

  @Test
  void aSenderCannotCancelAttachToOrPurgeAnotherSendersMail() throws SQLException {
    long bobsCancelled = sendAs(BOB, "bert@example.com", "bob cancels");
    long alicesCancelled = sendAs(ALICE, "ann@example.com", "alice cancels");
    try (Connection c = as(BOB)) {
      assertThat(Outbox.cancel(c, bobsCancelled)).isTrue();
    }
    try (Connection c = as(ALICE)) {
      assertThat(Outbox.cancel(c, bobsMail)).isFalse();
      assertThatThrownBy(() ->
              Sql.rows(c, "SELECT mail.attach(?, 'x.txt', 'text/plain', 'x'::bytea)", bobsMail))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("MA014"));
      assertThat(Outbox.cancel(c, alicesCancelled)).isTrue();
      assertThat(Sql.rows(c, "SELECT mail.purge(now() + interval '1 day', 'cancelled') AS n"))
          .containsExactly(Map.of("n", 1L));
    }
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT id, status::text FROM mail.outbox WHERE id IN (?, ?, ?) ORDER BY id",
                bobsMail,
                bobsCancelled,
                alicesCancelled))
        .extracting(r -> r.get("id") + ":" + r.get("status"))
        .containsExactly(bobsMail + ":queued", bobsCancelled + ":cancelled");
  }

  @Test
  void aSenderCannotForgeAnotherOwnerOrMarkItsMailSent() throws SQLException {
    try (Connection c = as(ALICE)) {
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "INSERT INTO mail.outbox (recipients, created_by) VALUES ('a@example.com', ?)"
                      + " RETURNING id",
                  BOB))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() ->
              Sql.rows(
                  c,
                  "UPDATE mail.outbox SET status = 'sent' WHERE id = ? RETURNING id",
                  alicesMail))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    }
  }

  @Test
  void neitherASenderNorAnyOtherRoleCanReadPasswords() throws SQLException {
    try (Connection c = as(ALICE)) {
      assertThat(Sql.rows(c, "SELECT name, from_address FROM mail.account"))
          .containsExactly(Map.of("name", "relay", "from_address", "Robot <robot@example.com>"));
      assertThatThrownBy(() -> Sql.rows(c, "SELECT password FROM mail.account"))
          .isInstanceOfSatisfying(
              PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    }
    try (Connection c = as(NOBODY)) {
      for (String sql :
          List.of(
              "SELECT password FROM mail.account",
              "SELECT id FROM mail.outbox",
              "SELECT mail.send('a@example.com')")) {
        assertThatThrownBy(() -> Sql.rows(c, sql))
            .as(sql)
            .isInstanceOfSatisfying(
                PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      }
    }
  }

  @Test
  void adminAndDispatcherSeeEverySendersMail() throws SQLException {
    for (String role : List.of("mail_admin", "mail_dispatcher")) {
      try (Connection c = as(role)) {
        assertThat(ids(c, "SELECT id FROM mail.outbox")).contains(alicesMail, bobsMail);
        assertThat(Sql.rows(c, "SELECT password FROM mail.account"))
            .containsExactly(Map.of("password", "s3cret"));
      }
    }
  }

  @Test
  void aSenderSeesTheEventsADispatcherLogsAboutItsMail() throws SQLException {
    try (Connection c = as("mail_dispatcher")) {
      Sql.rows(
          c,
          "INSERT INTO mail.event_log (mail_id, event, reply_code) VALUES (?, 'deferred', 451)"
              + " RETURNING id",
          alicesMail);
    }
    try (Connection c = as(ALICE)) {
      assertThat(
              Sql.rows(
                  c,
                  "SELECT reply_code FROM mail.event_log WHERE event = 'deferred' AND mail_id = ?",
                  alicesMail))
          .containsExactly(Map.of("reply_code", 451));
    }
  }

  @Test
  void aSenderCanCancelAndRetryItsOwnMail() throws SQLException {
    long id = sendAs(ALICE, "carol@example.com", "to cancel");
    try (Connection c = as(ALICE)) {
      assertThat(Outbox.cancel(c, id)).isTrue();
      assertThat(Outbox.retry(c, id)).isTrue();
      assertThat(Sql.rows(c, "SELECT status::text FROM mail.outbox WHERE id = ?", id))
          .containsExactly(Map.of("status", "queued"));
      assertThat(Sql.rows(c, "SELECT event FROM mail.event_log WHERE mail_id = ? ORDER BY id", id))
          .extracting(r -> r.get("event"))
          .containsExactly("queued", "cancelled", "retried");
    }
  }

  @Test
  void idempotencyKeysArePerSenderAndTellNothingAboutOtherSenders() throws SQLException {
    long bobs;
    try (Connection c = as(BOB)) {
      bobs =
          (Long) Sql.one(c, "SELECT mail.send('x@example.com', idempotency_key => 'shared-key')");
    }
    try (Connection c = as(ALICE)) {
      long alices =
          (Long) Sql.one(c, "SELECT mail.send('y@example.com', idempotency_key => 'shared-key')");
      assertThat(alices).as("a mail of her own, not Bob's id").isNotEqualTo(bobs);
      assertThat(Sql.one(c, "SELECT mail.send('z@example.com', idempotency_key => 'shared-key')"))
          .as("her own repeat returns her first mail")
          .isEqualTo(alices);
      assertThat(ids(c, "SELECT id FROM mail.outbox WHERE idempotency_key = 'shared-key'"))
          .containsExactly(alices);
    }
    assertThat(
            Sql.rows(
                db.dataSource(),
                "SELECT created_by::text AS who, recipients FROM mail.outbox"
                    + " WHERE idempotency_key = 'shared-key' ORDER BY id"))
        .containsExactly(
            Map.of("who", BOB, "recipients", "x@example.com"),
            Map.of("who", ALICE, "recipients", "y@example.com"));
  }

  private static long sendAs(String role, String to, String subject) throws SQLException {
    try (Connection c = as(role)) {
      long id = Outbox.send(c, OutgoingMail.builder().recipients(to).subject(subject).build());
      Sql.rows(c, "SELECT mail.attach(?, 'note.txt', 'text/plain', 'hi'::bytea)", id);
      return id;
    }
  }

  /** A session acting as the role, as an application logged in with it would. */
  private static Connection as(String role) throws SQLException {
    Connection c = db.connect();
    try (Statement st = c.createStatement()) {
      st.execute("SET ROLE " + role);
    }
    return c;
  }

  private static List<Long> ids(Connection c, String sql) throws SQLException {
    return Sql.rows(c, sql).stream().map(r -> (Long) r.values().iterator().next()).toList();
  }
}
