package dev.postroom.outbox;

import dev.postroom.template.TemplateEngine;
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
             c.report_for, c.report_kind, c.created_by, c.template_name, c.template_subject,
             c.template_body, c.template_data::text AS template_data, c.list_unsubscribe,
             (SELECT array_agg(e.key || ': ' || e.value) FROM jsonb_each_text(c.headers) e)
               AS header_lines
        FROM claimed c
       ORDER BY c.priority DESC, c.next_attempt_at
      """;

  private final Jdbi jdbi;
  private final TemplateEngine templates = new TemplateEngine();

  public ClaimStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  /** Claims up to {@code limit} due mails for {@code dispatcher}, leased until now + lease. */
  public List<ClaimedMail> claim(String dispatcher, int limit, Instant now, Duration lease) {
    return jdbi.inTransaction(h -> {
      ClaimRendering rendering = new ClaimRendering(templates);
      List<ClaimedMail> claimed =
          h.createQuery(CLAIM)
              .bind("now", ts(now))
              .bind("leaseUntil", ts(now.plus(lease)))
              .bind("limit", limit)
              .bind("dispatcher", dispatcher)
              .map((rs, ctx) -> rendering.render(mapClaimed(rs), rs))
              .list();
      rendering.writeBack(h);
      return claimed;
    });
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
   * Takes back mails whose lease ran out (their dispatcher died or lost the database), with a
   * {@code lease_expired} event naming the holder. Mail still within its lifetime is due again at
   * once; mail past its lifetime ends (open recipients failed, event {@code expired}); mail whose
   * lease has now run out {@value #POISON_AFTER} times since its last recorded result ends too
   * (open recipients failed with 554 5.3.0, event {@code poisoned}): something in it stops every
   * attempt, and retrying would only resend to the recipients it did reach. Returns their ids.
   */
  public List<Long> recoverExpiredLeases(Instant now, String dispatcher) {
    return jdbi.inTransaction(h ->
        h.createQuery(RECOVER)
            .bind("now", ts(now))
            .bind("dispatcher", dispatcher)
            .bind("poisonAfter", POISON_AFTER)
            .mapTo(Long.class)
            .list());
  }

  /** Lease expiries without a result after which a mail is given up as poisoned. */
  public static final int POISON_AFTER = 3;

  private static final String RECOVER =
      """
      WITH expired AS (
        SELECT id, claimed_by, expires_at FROM mail.outbox
         WHERE status = 'sending' AND lease_expires_at < :now
         ORDER BY lease_expires_at LIMIT 1000
         FOR UPDATE SKIP LOCKED),
      judged AS (
        SELECT x.id, x.claimed_by,
               CASE WHEN x.expires_at <= :now THEN 'expired'
                    WHEN 1 + (SELECT count(*) FROM mail.event_log e
                               WHERE e.mail_id = x.id AND e.event = 'lease_expired'
                                 AND e.id > coalesce(
                                   (SELECT max(r.id) FROM mail.event_log r
                                     WHERE r.mail_id = x.id AND r.recipient_id IS NOT NULL), 0))
                         >= :poisonAfter THEN 'poisoned'
               END AS ending,
               EXISTS (SELECT 1 FROM mail.recipient r
                        WHERE r.mail_id = x.id AND r.status = 'delivered') AS some_delivered
          FROM expired x),
      recovered AS (
        UPDATE mail.outbox o
           SET status = CASE WHEN j.ending IS NULL THEN 'retrying'
                             WHEN j.some_delivered THEN 'partially_sent'
                             ELSE 'failed' END::mail.mail_status,
               next_attempt_at = :now, lease_token = NULL, lease_expires_at = NULL,
               claimed_by = NULL, updated_at = :now,
               sent_at = CASE WHEN j.ending IS NOT NULL AND j.some_delivered THEN :now
                              ELSE o.sent_at END,
               last_reply_code = CASE j.ending WHEN 'poisoned' THEN 554
                                               WHEN 'expired' THEN coalesce(o.last_reply_code, 451)
                                               ELSE o.last_reply_code END,
               last_enhanced_code = CASE j.ending WHEN 'poisoned' THEN '5.3.0'
                                                  WHEN 'expired' THEN '4.4.7'
                                                  ELSE o.last_enhanced_code END,
               last_reply_text = CASE j.ending
                                   WHEN 'poisoned' THEN 'every attempt ended without a result'
                                     || ' (the lease ran out ' || :poisonAfter || ' times)'
                                   WHEN 'expired' THEN 'message lifetime ended before delivery'
                                   ELSE o.last_reply_text END
          FROM judged j
         WHERE o.id = j.id
        RETURNING o.id, o.created_by, j.claimed_by AS holder, j.ending),
      ended AS (
        UPDATE mail.recipient r
           SET status = 'failed', updated_at = :now, next_attempt_at = NULL,
               reply_code = CASE WHEN x.ending = 'poisoned' THEN 554
                                 ELSE coalesce(r.reply_code, 451) END,
               enhanced_code = CASE WHEN x.ending = 'poisoned' THEN '5.3.0'
                                    ELSE coalesce(r.enhanced_code, '4.4.7') END,
               reply_text = CASE WHEN x.ending = 'poisoned'
                                   THEN 'every attempt ended without a result'
                                 ELSE coalesce(r.reply_text, 'message lifetime ended before delivery')
                            END
          FROM recovered x
         WHERE r.mail_id = x.id AND x.ending IS NOT NULL AND r.status IN ('pending', 'deferred')),
      logged AS (
        INSERT INTO mail.event_log
          (mail_id, logged_at, event, dispatcher, reply_code, enhanced_code, reply_text, created_by)
        SELECT id, :now, 'lease_expired', :dispatcher, NULL, NULL,
               'lease of ' || coalesce(holder, 'an unknown dispatcher') || ' ran out'
                 || CASE WHEN ending IS NULL THEN '; mail is due again' ELSE '' END, created_by
          FROM recovered
        UNION ALL
        SELECT id, :now, ending, :dispatcher,
               CASE ending WHEN 'poisoned' THEN 554 ELSE 451 END,
               CASE ending WHEN 'poisoned' THEN '5.3.0' ELSE '4.4.7' END,
               CASE ending
                 WHEN 'poisoned' THEN 'the lease ran out ' || :poisonAfter
                   || ' times without a result; the mail is given up'
                 ELSE 'message lifetime ended before delivery' END, created_by
          FROM recovered WHERE ending IS NOT NULL)
      SELECT id FROM recovered
      """;

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
        rs.getString("created_by"),
        null,
        rs.getBoolean("list_unsubscribe"));
  }
}
