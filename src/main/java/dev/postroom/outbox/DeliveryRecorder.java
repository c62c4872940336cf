package dev.postroom.outbox;

import static dev.postroom.outbox.ClaimStore.ts;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;

/**
 * Writes the results of many attempts in one statement. Its input is three tables, each bound as
 * one array per column ({@link Column}): the mails ({@code m_…}), the recipient results ({@code
 * r_…}) and the events ({@code e_…}). Every row is fenced by its mail's lease token: a mail whose
 * lease is gone writes nothing. Recipients already delivered are never changed. Hard bounces go to
 * {@code mail.suppression} when {@code suppress_hard_bounces} is on.
 */
final class DeliveryRecorder {
  private static final String RECORD =
      """
      WITH m AS (
        SELECT * FROM unnest(:m_id, :m_token, :m_now, :m_finished, :m_status, :m_next, :m_account,
                             :m_code, :m_enhanced, :m_text)
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
        SELECT mail.setting('suppress_hard_bounces')::boolean AS suppress,
               string_to_array(replace(coalesce(mail.setting('hard_bounce_codes'), ''), ' ', ''),
                               ',') AS codes),
      results AS (
        SELECT u.*, held.now, held.next
          FROM unnest(:r_mail, :r_id, :r_status, :r_code, :r_enhanced, :r_text, :r_stage, :r_host,
                      :r_fwd) AS u(mail_id, id, status, code, enhanced, text, stage, host, fwd)
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
        ON CONFLICT (address, profile_id) DO NOTHING),
      events AS (
        INSERT INTO mail.event_log (mail_id, recipient_id, logged_at, event, account_name,
                                    remote_host, smtp_stage, reply_code, enhanced_code,
                                    reply_text, dispatcher, created_by)
        SELECT e.mail_id, e.rid, held.now, e.event, e.account, e.host, e.stage, e.code,
               e.enhanced, e.text, :dispatcher, held.created_by
          FROM unnest(:e_mail, :e_rid, :e_event, :e_account, :e_host, :e_stage, :e_code,
                      :e_enhanced, :e_text)
                 AS e(mail_id, rid, event, account, host, stage, code, enhanced, text)
          JOIN held ON held.id = e.mail_id)
      SELECT id FROM held
      """;

  /** One column of an input table: its parameter name, element type and value per row. */
  private record Column<T>(String name, Class<?> type, Function<T, ?> value) {}

  /** A recipient result or event with the mail it belongs to. */
  private record Row<T>(long mailId, T value) {}

  private static final List<Column<DeliveryRecord>> MAILS =
      List.of(
          new Column<>("m_id", Long.class, r -> r.mail().id()),
          new Column<>("m_token", String.class, r -> r.mail().leaseToken().toString()),
          new Column<>("m_now", OffsetDateTime.class, r -> ts(r.now())),
          new Column<>("m_finished", Boolean.class, r -> r.finish() != null),
          new Column<>("m_status", String.class, r -> finish(r, f -> f.status().sql())),
          new Column<>("m_next", OffsetDateTime.class, r -> finish(r, f -> ts(f.nextAttemptAt()))),
          new Column<>(
              "m_account", Integer.class, r -> finish(r, DeliveryRecord.Finish::accountId)),
          new Column<>(
              "m_code", Integer.class, r -> finish(r, DeliveryRecord.Finish::lastReplyCode)),
          new Column<>(
              "m_enhanced", String.class, r -> finish(r, DeliveryRecord.Finish::lastEnhancedCode)),
          new Column<>(
              "m_text", String.class, r -> finish(r, DeliveryRecord.Finish::lastReplyText)));

  private static final List<Column<Row<RecipientResult>>> RESULTS =
      List.of(
          new Column<>("r_mail", Long.class, Row::mailId),
          new Column<>("r_id", Long.class, r -> r.value().recipientId()),
          new Column<>("r_status", String.class, r -> r.value().status().sql()),
          new Column<>("r_code", Integer.class, r -> r.value().replyCode()),
          new Column<>("r_enhanced", String.class, r -> r.value().enhancedCode()),
          new Column<>("r_text", String.class, r -> r.value().replyText()),
          new Column<>("r_stage", String.class, r -> r.value().stage()),
          new Column<>("r_host", String.class, r -> r.value().remoteHost()),
          new Column<>("r_fwd", String.class, r -> r.value().forwardPath()));

  private static final List<Column<Row<DeliveryEvent>>> EVENTS =
      List.of(
          new Column<>("e_mail", Long.class, Row::mailId),
          new Column<>("e_rid", Long.class, r -> r.value().recipientId()),
          new Column<>("e_event", String.class, r -> r.value().event().sql()),
          new Column<>("e_account", String.class, r -> r.value().accountName()),
          new Column<>("e_host", String.class, r -> r.value().remoteHost()),
          new Column<>("e_stage", String.class, r -> r.value().stage()),
          new Column<>("e_code", Integer.class, r -> r.value().replyCode()),
          new Column<>("e_enhanced", String.class, r -> r.value().enhancedCode()),
          new Column<>("e_text", String.class, r -> r.value().replyText()));

  private DeliveryRecorder() {}

  /** Writes the records; returns the ids of the mails whose lease was still held. */
  static Set<Long> write(Handle h, List<DeliveryRecord> records, String dispatcher) {
    List<DeliveryRecord> mails = new ArrayList<>(records);
    // one lock order for every writer, so concurrent group commits cannot deadlock
    mails.sort(Comparator.comparingLong(r -> r.mail().id()));
    List<Row<RecipientResult>> results = new ArrayList<>();
    List<Row<DeliveryEvent>> events = new ArrayList<>();
    for (DeliveryRecord r : mails) {
      r.results().forEach(x -> results.add(new Row<>(r.mail().id(), x)));
      r.events().forEach(e -> events.add(new Row<>(r.mail().id(), e)));
    }
    Query q = h.createQuery(RECORD).bind("dispatcher", dispatcher);
    bind(q, MAILS, mails);
    bind(q, RESULTS, results);
    bind(q, EVENTS, events);
    return new HashSet<>(q.mapTo(Long.class).list());
  }

  private static <T> void bind(Query q, List<Column<T>> columns, List<T> rows) {
    for (Column<T> c : columns) {
      bindColumn(q, c, rows);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T, V> void bindColumn(Query q, Column<T> c, List<T> rows) {
    List<V> values = new ArrayList<>(rows.size());
    for (T row : rows) {
      values.add((V) c.value().apply(row));
    }
    q.bindArray(c.name(), (Class<V>) c.type(), values);
  }

  private static <V> V finish(DeliveryRecord r, Function<DeliveryRecord.Finish, V> field) {
    return r.finish() == null ? null : field.apply(r.finish());
  }
}
