package dev.postroom.dispatch;

import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jdbi.v3.core.Jdbi;

/** Setting up accounts, sending mail and reading outcomes through the public SQL API. */
final class MailFixture {
  final TestDatabase db;
  final Jdbi jdbi;

  MailFixture(TestDatabase db) {
    this.db = db;
    this.jdbi = db.jdbi();
  }

  /** A recipient row as a user reads it. */
  record Rcpt(
      String address,
      String status,
      Integer replyCode,
      String enhancedCode,
      String stage,
      int attempts,
      String remoteHost) {}

  /** An outbox row as a user reads it. */
  record Mail(
      long id,
      String status,
      int attempts,
      OffsetDateTime nextAttemptAt,
      Integer lastReplyCode,
      String lastReplyText,
      OffsetDateTime sentAt) {}

  void reset() {
    jdbi.useHandle(h -> {
      h.execute("DELETE FROM mail.outbox");
      h.execute("DELETE FROM mail.event_log");
      h.execute("DELETE FROM mail.suppression");
      h.execute("DELETE FROM mail.profile_account");
      h.execute("DELETE FROM mail.profile");
      h.execute("DELETE FROM mail.account");
      h.execute("DELETE FROM mail.destination_policy");
      h.execute(
          "TRUNCATE mail.shaping_slot, mail.shaping_bucket, mail.shaping_pause,"
              + " mail.shaping_count");
      h.execute("UPDATE mail.setting SET value = NULL");
    });
  }

  /** A plain-text relay account on loopback, added to the profile at the given position. */
  void relay(String profile, String account, int port, int sequence) {
    jdbi.useHandle(h -> {
      h.createQuery(
              "SELECT mail.add_account(name => :name, host => '127.0.0.1', port => :port,"
                  + " tls => 'none', from_address => 'app@postroom.test')")
          .bind("name", account)
          .bind("port", port)
          .mapTo(Integer.class)
          .one();
      boolean exists =
          h.createQuery("SELECT count(*) > 0 FROM mail.profile WHERE name = :p")
              .bind("p", profile)
              .mapTo(Boolean.class)
              .one();
      if (!exists) {
        h.createQuery("SELECT mail.add_profile(:p, is_default => true)")
            .bind("p", profile)
            .mapTo(Integer.class)
            .one();
      }
      h.createQuery("SELECT mail.add_profile_account(:p, :a, :s)")
          .bind("p", profile)
          .bind("a", account)
          .bind("s", sequence)
          .mapTo(String.class)
          .findOne();
    });
  }

  void configure(String name, String value) {
    jdbi.useHandle(h ->
        h.createQuery("SELECT mail.configure(:n, :v)")
            .bind("n", name)
            .bind("v", value)
            .mapTo(String.class)
            .findOne());
  }

  long send(String recipients, String subject) {
    return jdbi.withHandle(h ->
        h.createQuery("SELECT mail.send(recipients => :r, subject => :s, body => 'Hello')")
            .bind("r", recipients)
            .bind("s", subject)
            .mapTo(Long.class)
            .one());
  }

  /**
   * A mail with an address that {@code mail.send} refuses today, as a row written before the
   * address rule (or by a path that bypassed it) would hold: sent with {@code placeholder}, which
   * is then changed to {@code odd} by the superuser. The dispatcher must still end it cleanly.
   */
  long sendWithLegacyAddress(String recipients, String subject, String placeholder, String odd) {
    long id = send(recipients, subject);
    jdbi.useHandle(h -> {
      h.createUpdate(
              "UPDATE mail.recipient SET address = :odd, domain = :domain"
                  + " WHERE mail_id = :id AND address = :placeholder")
          .bind("odd", odd)
          .bind("domain", odd.substring(odd.lastIndexOf('@') + 1))
          .bind("id", id)
          .bind("placeholder", placeholder)
          .execute();
      h.createUpdate(
              "UPDATE mail.outbox SET recipients = replace(recipients, :placeholder, :odd)"
                  + " WHERE id = :id")
          .bind("odd", odd)
          .bind("id", id)
          .bind("placeholder", placeholder)
          .execute();
    });
    return id;
  }

  Mail mail(long id) {
    return jdbi.withHandle(h ->
        h.createQuery(
                "SELECT id, status::text AS status, attempts, next_attempt_at,"
                    + " last_reply_code, last_reply_text, sent_at FROM mail.outbox WHERE id = :id")
            .bind("id", id)
            .map((rs, ctx) ->
                new Mail(
                    rs.getLong("id"),
                    rs.getString("status"),
                    rs.getInt("attempts"),
                    rs.getObject("next_attempt_at", OffsetDateTime.class),
                    rs.getObject("last_reply_code", Integer.class),
                    rs.getString("last_reply_text"),
                    rs.getObject("sent_at", OffsetDateTime.class)))
            .one());
  }

  List<Rcpt> recipients(long id) {
    return jdbi.withHandle(h ->
        h.createQuery(
                "SELECT address, status::text AS status, reply_code, enhanced_code, smtp_stage,"
                    + " attempts, remote_host FROM mail.recipient WHERE mail_id = :id ORDER BY id")
            .bind("id", id)
            .map((rs, ctx) ->
                new Rcpt(
                    rs.getString("address"),
                    rs.getString("status"),
                    rs.getObject("reply_code", Integer.class),
                    rs.getString("enhanced_code"),
                    rs.getString("smtp_stage"),
                    rs.getInt("attempts"),
                    rs.getString("remote_host")))
            .list());
  }

  List<String> events(long id) {
    return jdbi.withHandle(h ->
        h.createQuery("SELECT event FROM mail.event_log WHERE mail_id = :id ORDER BY id")
            .bind("id", id)
            .mapTo(String.class)
            .list());
  }

  Map<String, Long> statusCounts() {
    return jdbi.withHandle(h ->
        h
            .createQuery("SELECT status::text AS s, count(*) AS n FROM mail.outbox GROUP BY 1")
            .map((rs, ctx) -> Map.entry(rs.getString("s"), rs.getLong("n")))
            .list()
            .stream()
            .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
  }

  Dispatcher dispatcher(String name, ManualClock clock) {
    return dispatcher(DispatcherConfig.defaults(name), clock);
  }

  /** A dispatcher connecting as a login of {@code mail_dispatcher}, as in production. */
  Dispatcher dispatcher(DispatcherConfig config, java.time.Clock clock) {
    return new Dispatcher(
        db.dataSourceAs("mail_dispatcher"),
        () -> db.connectAs("mail_dispatcher"),
        config,
        new SimpleMeterRegistry(),
        clock,
        new SplittableRandom(7));
  }

  /** Makes every queued or retrying mail due at {@code when} (moves time for the database). */
  void makeDue(Instant when) {
    jdbi.useHandle(h ->
        h.createUpdate(
                "UPDATE mail.outbox SET next_attempt_at = :t"
                    + " WHERE status IN ('queued', 'retrying')")
            .bind("t", when.atOffset(java.time.ZoneOffset.UTC))
            .execute());
  }
}
