package dev.postroom.outbox;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * The lease side of the outbox: claiming due mail, keeping leases alive, giving mail back, and
 * taking back mail whose holder vanished. Each method is one short statement in its own
 * transaction; none is ever open while SMTP is spoken.
 */
public final class ClaimStore {
  private static final String CLAIM =
      """
      WITH due AS (
        SELECT id FROM mail.outbox
         WHERE status IN ('queued', 'retrying') AND next_attempt_at <= :now
         ORDER BY priority DESC, next_attempt_at
         LIMIT :limit
         FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE mail.outbox o
           SET status = 'sending', attempts = least(o.attempts, 2147483646) + 1, lease_token = gen_random_uuid(),
               lease_expires_at = :leaseUntil, claimed_by = :dispatcher, updated_at = :now
          FROM due WHERE o.id = due.id
        RETURNING o.*),
      logged AS (
        INSERT INTO mail.event_log (mail_id, logged_at, event, dispatcher, created_by)
        SELECT id, :now, 'claimed', :dispatcher, created_by FROM claimed)
      SELECT c.id, c.lease_token, c.attempts, c.profile_id, c.subject, c.body, c.body_format,
             c.from_address, c.reply_to, c.importance, c.sensitivity, c.message_id,
             c.created_at,
             least(greatest(c.expires_at, '0001-01-01 00:00+00'), '9999-12-31 00:00+00') AS expires_at,
             c.report_for, c.report_kind, c.created_by,
             (SELECT array_agg(e.key || ': ' || e.value) FROM jsonb_each_text(c.headers) e)
               AS header_lines
        FROM claimed c
       ORDER BY c.priority DESC, c.next_attempt_at
      """;

  private final Jdbi jdbi;

  public ClaimStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** Claims up to {@code limit} due mails for {@code dispatcher}, leased until now + lease. */
  public List<ClaimedMail> claim(String dispatcher, int limit, Instant now, Duration lease) {
    return jdbi.inTransaction(h ->
        h.createQuery(CLAIM)
            .bind("now", ts(now))
            .bind("leaseUntil", ts(now.plus(lease)))
            .bind("limit", limit)
            .bind("dispatcher", dispatcher)
            .map((rs, ctx) -> mapClaimed(rs))
            .list());
  }

  /** Pushes the lease of mails still being worked on; returns how many are still held. */
  public int extendLeases(Collection<ClaimedMail> mails, Instant until) {
    if (mails.isEmpty()) {
      return 0;
    }
    return jdbi.withHandle(h ->
        h.createUpdate(
                """
                UPDATE mail.outbox o SET lease_expires_at = :until
                 WHERE o.id IN (
                   SELECT x.id FROM mail.outbox x
                     JOIN unnest(:ids, :tokens) AS held(id, token)
                       ON x.id = held.id AND x.lease_token = held.token::uuid
                    WHERE x.status = 'sending'
                    ORDER BY x.id
                      FOR UPDATE OF x SKIP LOCKED)
                """)
            .bind("until", ts(until))
            .bindArray("ids", Long.class, ids(mails))
            .bindArray("tokens", String.class, tokens(mails))
            .execute());
  }

  /**
   * Gives back mails that were claimed but never started, as if the claim had not happened: the
   * attempt is not counted and they are due at once.
   */
  public int release(Collection<ClaimedMail> mails, Instant now) {
    if (mails.isEmpty()) {
      return 0;
    }
    return jdbi.withHandle(h ->
        h.createUpdate(
                """
                UPDATE mail.outbox o
                   SET status = CASE WHEN o.attempts <= 1 THEN 'queued'
                                     ELSE 'retrying' END::mail.mail_status,
                       attempts = greatest(o.attempts - 1, 0), next_attempt_at = :now,
                       lease_token = NULL, lease_expires_at = NULL, claimed_by = NULL,
                       updated_at = :now
                  FROM unnest(:ids, :tokens) AS held(id, token)
                 WHERE o.id = held.id AND o.lease_token = held.token::uuid
                   AND o.status = 'sending'
                """)
            .bind("now", ts(now))
            .bindArray("ids", Long.class, ids(mails))
            .bindArray("tokens", String.class, tokens(mails))
            .execute());
  }

  /**
   * Takes back mails whose lease ran out (their dispatcher died or lost the database): they are due
   * again at once, and an event names the dispatcher that held them. Returns their ids.
   */
  public List<Long> recoverExpiredLeases(Instant now, String dispatcher) {
    return jdbi.inTransaction(h ->
        h.createQuery(
                """
                WITH expired AS (
                  SELECT id, claimed_by FROM mail.outbox
                   WHERE status = 'sending' AND lease_expires_at < :now
                   ORDER BY lease_expires_at LIMIT 1000
                   FOR UPDATE SKIP LOCKED),
                recovered AS (
                  UPDATE mail.outbox o
                     SET status = 'retrying', next_attempt_at = :now, lease_token = NULL,
                         lease_expires_at = NULL, claimed_by = NULL, updated_at = :now
                    FROM expired
                   WHERE o.id = expired.id
                  RETURNING o.id, o.created_by, expired.claimed_by AS holder),
                logged AS (
                  INSERT INTO mail.event_log
                    (mail_id, logged_at, event, dispatcher, reply_text, created_by)
                  SELECT id, :now, 'lease_expired', :dispatcher,
                         'lease of ' || coalesce(holder, 'an unknown dispatcher')
                           || ' ran out; mail is due again', created_by
                    FROM recovered)
                SELECT id FROM recovered
                """)
            .bind("now", ts(now))
            .bind("dispatcher", dispatcher)
            .mapTo(Long.class)
            .list());
  }

  /** Whether any mail is due now (used to decide that a drain is complete). */
  public boolean anyDue(Instant now) {
    return jdbi.withHandle(h ->
        h.createQuery(
                """
                SELECT EXISTS (SELECT 1 FROM mail.outbox
                                WHERE status IN ('queued', 'retrying')
                                  AND next_attempt_at <= :now)
                """)
            .bind("now", ts(now))
            .mapTo(Boolean.class)
            .one());
  }

  static OffsetDateTime ts(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  private static List<Long> ids(Collection<ClaimedMail> mails) {
    return mails.stream().map(ClaimedMail::id).toList();
  }

  private static List<String> tokens(Collection<ClaimedMail> mails) {
    return mails.stream().map(m -> m.leaseToken().toString()).toList();
  }

  private static ClaimedMail mapClaimed(ResultSet rs) throws SQLException {
    Map<String, String> headers = new LinkedHashMap<>();
    java.sql.Array lines = rs.getArray("header_lines");
    if (lines != null) {
      for (Object line : (Object[]) lines.getArray()) {
        String s = (String) line;
        int colon = s.indexOf(": ");
        headers.put(s.substring(0, colon), s.substring(colon + 2));
      }
    }
    Integer profileId = rs.getObject("profile_id", Integer.class);
    return new ClaimedMail(
        rs.getLong("id"),
        rs.getObject("lease_token", UUID.class),
        rs.getInt("attempts"),
        profileId,
        rs.getString("subject"),
        rs.getString("body"),
        rs.getString("body_format"),
        rs.getString("from_address"),
        rs.getString("reply_to"),
        rs.getString("importance"),
        rs.getString("sensitivity"),
        headers,
        rs.getString("message_id"),
        instant(rs, "created_at"),
        instant(rs, "expires_at"),
        rs.getObject("report_for", Long.class),
        rs.getString("report_kind"),
        rs.getString("created_by"));
  }
}
