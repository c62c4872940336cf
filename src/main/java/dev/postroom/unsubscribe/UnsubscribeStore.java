package dev.postroom.unsubscribe;

import dev.postroom.unsubscribe.UnsubscribeToken.Subscriber;
import org.jdbi.v3.core.Jdbi;

/**
 * Records a one-click unsubscribe: a {@code mail.suppression} row of kind {@code unsubscribe} for
 * the profile and an {@code unsubscribed} event, once; a repeated request changes nothing. Open
 * recipients of the profile's list mail to that address that are still waiting (queued or retrying)
 * are suppressed at once, so the backlog is not sent either.
 */
final class UnsubscribeStore {
  enum Outcome {
    UNSUBSCRIBED,
    ALREADY,
    /** The profile is gone (deleted since the mail was sent): the token names nothing any more. */
    UNKNOWN
  }

  private static final String UNSUBSCRIBE =
      """
      WITH profile AS (
        SELECT p.id, p.name FROM mail.profile p WHERE p.id = :profile),
      added AS (
        INSERT INTO mail.suppression (address, reason, mail_id, kind, profile_id)
        SELECT :address, 'one-click unsubscribe (RFC 8058) from profile ' || p.name, :mail,
               'unsubscribe', p.id
          FROM profile p
        ON CONFLICT (address, profile_id) DO NOTHING
        RETURNING address),
      waiting AS (
        UPDATE mail.recipient r SET status = 'suppressed', updated_at = now(), next_attempt_at = NULL
          FROM mail.outbox o
         WHERE EXISTS (SELECT 1 FROM added) AND o.id = r.mail_id
           AND o.list_unsubscribe AND o.profile_id = :profile
           AND o.status IN ('queued', 'retrying') AND lower(r.address) = :address
           AND r.status IN ('pending', 'deferred')
        RETURNING r.id, r.mail_id),
      logged AS (
        INSERT INTO mail.event_log (mail_id, recipient_id, event, reply_text)
        SELECT :mail,
               (SELECT r.id FROM mail.recipient r WHERE r.mail_id = :mail AND lower(r.address) = :address
                 ORDER BY r.id LIMIT 1),
               'unsubscribed', 'one-click unsubscribe (RFC 8058) from list mail of profile ' || p.name
          FROM profile p WHERE EXISTS (SELECT 1 FROM added)
        UNION ALL
        SELECT w.mail_id, w.id, 'suppressed', 'the recipient unsubscribed from this list mail'
          FROM waiting w)
      SELECT (SELECT count(*) FROM profile) AS profiles, (SELECT count(*) FROM added) AS added
      """;

  private static final String FINISH_SUPPRESSED =
      """
      WITH done AS (
        UPDATE mail.outbox o SET status = 'failed', updated_at = now(),
               last_reply_text = 'every recipient is on the suppression list'
         WHERE o.list_unsubscribe AND o.profile_id = :profile AND o.status IN ('queued', 'retrying')
           AND EXISTS (SELECT 1 FROM mail.recipient r WHERE r.mail_id = o.id AND lower(r.address) = :address)
           AND NOT EXISTS (SELECT 1 FROM mail.recipient r
                            WHERE r.mail_id = o.id AND r.status IN ('pending', 'deferred'))
        RETURNING o.id)
      INSERT INTO mail.event_log (mail_id, event, reply_text)
      SELECT id, 'failed', 'every recipient is on the suppression list' FROM done
      """;

  private final Jdbi jdbi;

  UnsubscribeStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  Outcome unsubscribe(Subscriber s) {
    return jdbi.inTransaction(h -> {
      var row =
          h.createQuery(UNSUBSCRIBE)
              .bind("profile", s.profileId())
              .bind("mail", s.mailId())
              .bind("address", s.address())
              .mapToMap()
              .one();
      if (((Number) row.get("profiles")).intValue() == 0) {
        return Outcome.UNKNOWN;
      }
      if (((Number) row.get("added")).intValue() == 0) {
        return Outcome.ALREADY;
      }
      h.createUpdate(FINISH_SUPPRESSED)
          .bind("profile", s.profileId())
          .bind("address", s.address())
          .execute();
      return Outcome.UNSUBSCRIBED;
    });
  }

  /** Whether the token's profile still exists (a GET shows the page only then). */
  boolean known(Subscriber s) {
    return jdbi.withHandle(h ->
        h.createQuery("SELECT count(*) > 0 FROM mail.profile WHERE id = :p")
            .bind("p", s.profileId())
            .mapTo(Boolean.class)
            .one());
  }
}
