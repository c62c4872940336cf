package dev.postroom.outbox;

import static dev.postroom.outbox.ClaimStore.ts;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.jdbi.v3.core.Handle;

/**
 * Writes the results of many attempts in one statement: one {@code UPDATE … FROM unnest(…)} for the
 * mails, one for their recipients, one {@code INSERT} for the events and one for hard-bounce
 * suppressions. Every row is fenced by its mail's lease token; a mail whose lease is gone writes
 * nothing. Recipients already delivered are never changed.
 */
final class DeliveryRecorder {
  private static final String RECORD =
      """
      WITH m AS (
        SELECT * FROM unnest(:mids, :tokens, :nows, :finished, :statuses, :nexts, :accounts,
                             :codes, :enhanced, :texts)
                 AS m(id, token, now, finished, status, next, account, code, enhanced, text)),
      held AS (
        UPDATE mail.outbox o
           SET updated_at = m.now,
               status = coalesce(m.status::mail.mail_status, o.status),
               next_attempt_at = coalesce(m.next, o.next_attempt_at),
               lease_token = CASE WHEN m.finished THEN NULL ELSE o.lease_token END,
               lease_expires_at = CASE WHEN m.finished THEN NULL ELSE o.lease_expires_at END,
               claimed_by = CASE WHEN m.finished THEN NULL ELSE o.claimed_by END,
               sent_at = CASE WHEN m.status IN ('sent', 'partially_sent') THEN m.now
                              ELSE o.sent_at END,
               account_id = coalesce(m.account, o.account_id),
               last_reply_code = CASE WHEN m.finished THEN m.code ELSE o.last_reply_code END,
               last_enhanced_code = CASE WHEN m.finished THEN m.enhanced
                                         ELSE o.last_enhanced_code END,
               last_reply_text = CASE WHEN m.finished THEN m.text ELSE o.last_reply_text END
          FROM m
         WHERE o.id = m.id AND o.lease_token = m.token::uuid AND o.status = 'sending'
        RETURNING o.id, o.created_by, m.now, m.next),
      policy AS (
        SELECT coalesce(mail.setting('suppress_hard_bounces'), 'true')::boolean AS suppress,
               string_to_array(replace(coalesce(mail.setting('hard_bounce_codes'), ''), ' ', ''),
                               ',') AS codes),
      results AS (
        SELECT u.*, held.now, held.next
          FROM unnest(:rmails, :rids, :rstatuses, :rcodes, :renhanced, :rtexts, :rstages, :rhosts,
                      :rfwds) AS u(mail_id, id, status, code, enhanced, text, stage, host, fwd)
          JOIN held ON held.id = u.mail_id),
      recipients AS (
        UPDATE mail.recipient r
           SET status = u.status::mail.recipient_status, attempts = r.attempts + 1,
               reply_code = coalesce(u.code, r.reply_code),
               enhanced_code = coalesce(u.enhanced, r.enhanced_code),
               reply_text = coalesce(u.text, r.reply_text),
               smtp_stage = coalesce(u.stage, r.smtp_stage),
               remote_host = coalesce(u.host, r.remote_host),
               forward_path = coalesce(u.fwd, r.forward_path),
               delivered_at = CASE WHEN u.status = 'delivered' THEN u.now ELSE r.delivered_at END,
               next_attempt_at = CASE WHEN u.status = 'deferred' THEN u.next END,
               updated_at = u.now
          FROM results u
         WHERE r.id = u.id AND r.mail_id = u.mail_id AND r.status IN ('pending', 'deferred')),
      suppressed AS (
        INSERT INTO mail.suppression (address, reason, mail_id)
        SELECT DISTINCT ON (lower(r.address)) lower(r.address),
               'hard bounce ' || u.code || ' ' || u.enhanced || ': ' || left(u.text, 200),
               u.mail_id
          FROM results u JOIN mail.recipient r ON r.id = u.id AND r.mail_id = u.mail_id
         CROSS JOIN policy
         WHERE u.status = 'failed' AND policy.suppress AND u.enhanced = ANY (policy.codes)
        ON CONFLICT (address) DO NOTHING),
      events AS (
        INSERT INTO mail.event_log (mail_id, recipient_id, logged_at, event, account_name,
                                    remote_host, smtp_stage, reply_code, enhanced_code,
                                    reply_text, dispatcher, created_by)
        SELECT e.mail_id, e.rid, held.now, e.event, e.account, e.host, e.stage, e.code,
               e.enhanced, e.text, :dispatcher, held.created_by
          FROM unnest(:emails, :erids, :eevents, :eaccounts, :ehosts, :estages, :ecodes,
                      :eenhanced, :etexts)
                 AS e(mail_id, rid, event, account, host, stage, code, enhanced, text)
          JOIN held ON held.id = e.mail_id)
      SELECT id FROM held
      """;

  private DeliveryRecorder() {}

  /** Writes the records; returns the ids of the mails whose lease was still held. */
  static Set<Long> write(Handle h, List<DeliveryRecord> records, String dispatcher) {
    List<DeliveryRecord> sorted = new ArrayList<>(records);
    sorted.sort(Comparator.comparingLong(r -> r.mail().id()));
    List<Long> rmails = new ArrayList<>();
    List<RecipientResult> rs = new ArrayList<>();
    List<Long> emails = new ArrayList<>();
    List<DeliveryEvent> es = new ArrayList<>();
    for (DeliveryRecord r : sorted) {
      for (RecipientResult x : r.results()) {
        rmails.add(r.mail().id());
        rs.add(x);
      }
      for (DeliveryEvent e : r.events()) {
        emails.add(r.mail().id());
        es.add(e);
      }
    }
    return new HashSet<>(
        h.createQuery(RECORD)
            .bind("dispatcher", dispatcher)
            .bindArray("mids", Long.class, map(sorted, r -> r.mail().id()))
            .bindArray("tokens", String.class, map(sorted, r -> r.mail().leaseToken().toString()))
            .bindArray("nows", java.time.OffsetDateTime.class, map(sorted, r -> ts(r.now())))
            .bindArray("finished", Boolean.class, map(sorted, r -> r.finish() != null))
            .bindArray(
                "statuses",
                String.class,
                map(sorted, r -> finish(r, DeliveryRecord.Finish::status)))
            .bindArray(
                "nexts",
                java.time.OffsetDateTime.class,
                map(sorted, r -> ts(finish(r, DeliveryRecord.Finish::nextAttemptAt))))
            .bindArray(
                "accounts",
                Integer.class,
                map(sorted, r -> finish(r, DeliveryRecord.Finish::accountId)))
            .bindArray(
                "codes",
                Integer.class,
                map(sorted, r -> finish(r, DeliveryRecord.Finish::lastReplyCode)))
            .bindArray(
                "enhanced",
                String.class,
                map(sorted, r -> finish(r, DeliveryRecord.Finish::lastEnhancedCode)))
            .bindArray(
                "texts",
                String.class,
                map(sorted, r -> finish(r, DeliveryRecord.Finish::lastReplyText)))
            .bindArray("rmails", Long.class, rmails)
            .bindArray("rids", Long.class, map(rs, RecipientResult::recipientId))
            .bindArray("rstatuses", String.class, map(rs, RecipientResult::status))
            .bindArray("rcodes", Integer.class, map(rs, RecipientResult::replyCode))
            .bindArray("renhanced", String.class, map(rs, RecipientResult::enhancedCode))
            .bindArray("rtexts", String.class, map(rs, RecipientResult::replyText))
            .bindArray("rstages", String.class, map(rs, RecipientResult::stage))
            .bindArray("rhosts", String.class, map(rs, RecipientResult::remoteHost))
            .bindArray("rfwds", String.class, map(rs, RecipientResult::forwardPath))
            .bindArray("emails", Long.class, emails)
            .bindArray("erids", Long.class, map(es, DeliveryEvent::recipientId))
            .bindArray("eevents", String.class, map(es, DeliveryEvent::event))
            .bindArray("eaccounts", String.class, map(es, DeliveryEvent::accountName))
            .bindArray("ehosts", String.class, map(es, DeliveryEvent::remoteHost))
            .bindArray("estages", String.class, map(es, DeliveryEvent::stage))
            .bindArray("ecodes", Integer.class, map(es, DeliveryEvent::replyCode))
            .bindArray("eenhanced", String.class, map(es, DeliveryEvent::enhancedCode))
            .bindArray("etexts", String.class, map(es, DeliveryEvent::replyText))
            .mapTo(Long.class)
            .list());
  }

  private static <T> T finish(DeliveryRecord r, Function<DeliveryRecord.Finish, T> f) {
    return r.finish() == null ? null : f.apply(r.finish());
  }

  private static <T, R> List<R> map(List<T> items, Function<T, R> f) {
    List<R> out = new ArrayList<>(items.size());
    for (T item : items) {
      out.add(f.apply(item));
    }
    return out;
  }
}
