package dev.postroom.outbox;

import static dev.postroom.outbox.ClaimStore.ts;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Jdbi;

/**
 * What a dispatcher reads to deliver claimed mail (recipients, attachments, accounts, settings) and
 * the one fenced write that records an attempt's results.
 */
public final class DeliveryStore {
  private static final String RECORD =
      """
      WITH held AS (
        UPDATE mail.outbox o
           SET updated_at = :now,
               status = coalesce(:status::mail.mail_status, o.status),
               next_attempt_at = coalesce(:next::timestamptz, o.next_attempt_at),
               lease_token = CASE WHEN :finished::boolean THEN NULL ELSE o.lease_token END,
               lease_expires_at = CASE WHEN :finished::boolean THEN NULL ELSE o.lease_expires_at END,
               claimed_by = CASE WHEN :finished::boolean THEN NULL ELSE o.claimed_by END,
               sent_at = CASE WHEN :status::text IN ('sent', 'partially_sent') THEN :now
                              ELSE o.sent_at END,
               account_id = coalesce(:account::int, o.account_id),
               last_reply_code = CASE WHEN :finished::boolean THEN :code::int ELSE o.last_reply_code END,
               last_enhanced_code = CASE WHEN :finished::boolean THEN :enhanced::text
                                         ELSE o.last_enhanced_code END,
               last_reply_text = CASE WHEN :finished::boolean THEN :text::text ELSE o.last_reply_text END
         WHERE o.id = :mail AND o.lease_token = :token::uuid AND o.status = 'sending'
        RETURNING o.id),
      recipients AS (
        UPDATE mail.recipient r
           SET status = u.status::mail.recipient_status, attempts = r.attempts + 1,
               reply_code = coalesce(u.code, r.reply_code),
               enhanced_code = coalesce(u.enhanced, r.enhanced_code),
               reply_text = coalesce(u.text, r.reply_text),
               smtp_stage = coalesce(u.stage, r.smtp_stage),
               remote_host = coalesce(u.host, r.remote_host),
               forward_path = coalesce(u.fwd, r.forward_path),
               delivered_at = CASE WHEN u.status = 'delivered' THEN :now ELSE r.delivered_at END,
               next_attempt_at = CASE WHEN u.status = 'deferred' THEN :next::timestamptz END,
               updated_at = :now
          FROM unnest(:rids, :rstatuses, :rcodes, :renhanced, :rtexts, :rstages, :rhosts, :rfwds)
                 AS u(id, status, code, enhanced, text, stage, host, fwd)
         WHERE r.id = u.id AND r.mail_id = :mail AND r.status IN ('pending', 'deferred')
           AND EXISTS (SELECT 1 FROM held)),
      suppressed AS (
        INSERT INTO mail.suppression (address, reason, mail_id)
        SELECT DISTINCT ON (lower(r.address)) lower(r.address),
               'hard bounce ' || u.code || ' ' || u.enhanced || ': ' || left(u.text, 200), :mail
          FROM unnest(:rids, :rstatuses, :rcodes, :renhanced, :rtexts)
                 AS u(id, status, code, enhanced, text)
          JOIN mail.recipient r ON r.id = u.id AND r.mail_id = :mail
         WHERE u.status = 'failed' AND EXISTS (SELECT 1 FROM held)
           AND coalesce(mail.setting('suppress_hard_bounces'), 'true')::boolean
           AND u.enhanced = ANY (string_to_array(
                 replace(coalesce(mail.setting('hard_bounce_codes'), ''), ' ', ''), ','))
        ON CONFLICT (address) DO NOTHING
        RETURNING address),
      events AS (
        INSERT INTO mail.event_log (mail_id, recipient_id, logged_at, event, account_name,
                                    remote_host, smtp_stage, reply_code, enhanced_code,
                                    reply_text, dispatcher, created_by)
        SELECT :mail, e.rid, :now, e.event, e.account, e.host, e.stage, e.code, e.enhanced,
               e.text, :dispatcher, :createdBy
          FROM unnest(:erids, :eevents, :eaccounts, :ehosts, :estages, :ecodes, :eenhanced,
                      :etexts) AS e(rid, event, account, host, stage, code, enhanced, text)
         WHERE EXISTS (SELECT 1 FROM held))
      SELECT count(*) FROM held
      """;

  /**
   * Queues a delivery status notification to the sender of a mail that ended with failed
   * recipients, when {@code notify_sender_on_failure} is on. Never for a notification itself.
   */
  private static final String NOTIFY_SENDER =
      """
      WITH original AS (
        SELECT o.id, o.profile_id, o.created_by, o.subject,
               coalesce(o.from_address, a.from_address) AS sender
          FROM mail.outbox o LEFT JOIN mail.account a ON a.id = o.account_id
         WHERE o.id = :mail AND o.report_for IS NULL
           AND coalesce(mail.setting('notify_sender_on_failure'), 'false')::boolean
           AND EXISTS (SELECT 1 FROM mail.recipient r
                        WHERE r.mail_id = o.id AND r.status = 'failed')),
      dsn AS (
        INSERT INTO mail.outbox
          (recipients, subject, body, profile_id, report_for, report_kind, created_by)
        SELECT sender, 'Undelivered Mail Returned to Sender',
               'Some recipients of your message "' || coalesce(subject, '') || '" could not be'
                 || ' reached. The delivery status report is attached.',
               profile_id, id, 'failure', created_by
          FROM original WHERE sender IS NOT NULL
        RETURNING id, report_for)
      INSERT INTO mail.event_log (mail_id, logged_at, event, reply_text, dispatcher, created_by)
      SELECT d.report_for, :now, 'notification_queued',
             'delivery status notification ' || d.id || ' queued for the sender', :dispatcher,
             o.created_by
        FROM dsn d JOIN original o ON o.id = d.report_for
      """;

  /**
   * Queues one "still trying" notification for a mail deferred longer than
   * {@code notify_sender_on_delay}, at most once per mail.
   */
  private static final String NOTIFY_DELAY =
      """
      WITH original AS (
        SELECT o.id, o.profile_id, o.created_by, o.subject,
               coalesce(o.from_address, a.from_address) AS sender
          FROM mail.outbox o LEFT JOIN mail.account a ON a.id = o.account_id
         WHERE o.id = :mail AND o.report_for IS NULL
           AND mail.setting('notify_sender_on_delay') IS NOT NULL
           AND o.created_at + mail.setting('notify_sender_on_delay')::interval <= :now
           AND NOT EXISTS (SELECT 1 FROM mail.outbox d
                            WHERE d.report_for = o.id AND d.report_kind = 'delay')),
      dsn AS (
        INSERT INTO mail.outbox
          (recipients, subject, body, profile_id, report_for, report_kind, created_by)
        SELECT sender, 'Delayed Mail (still being retried)',
               'Your message "' || coalesce(subject, '') || '" has not been delivered to every'
                 || ' recipient yet. Postroom keeps trying; the status report is attached.',
               profile_id, id, 'delay', created_by
          FROM original WHERE sender IS NOT NULL
        RETURNING id, report_for)
      INSERT INTO mail.event_log (mail_id, logged_at, event, reply_text, dispatcher, created_by)
      SELECT d.report_for, :now, 'notification_queued',
             'delay notification ' || d.id || ' queued for the sender', :dispatcher, o.created_by
        FROM dsn d JOIN original o ON o.id = d.report_for
      """;

  private static final java.util.Set<String> FAILED = java.util.Set.of("failed", "partially_sent");

  private final Jdbi jdbi;
  private final String dispatcher;

  public DeliveryStore(Jdbi jdbi, String dispatcher) {
    this.jdbi = jdbi;
    this.dispatcher = dispatcher;
  }

  /** All recipients of the given mails, in enqueue order, by mail id. */
  public Map<Long, List<DeliveryRecipient>> recipients(Collection<Long> mailIds) {
    if (mailIds.isEmpty()) {
      return Map.of();
    }
    List<DeliveryRecipient> rows =
        jdbi.withHandle(h ->
            h.createQuery(
                    """
                    SELECT id, mail_id, kind::text AS kind, address, display_name, domain,
                           status::text AS status, attempts
                      FROM mail.recipient WHERE mail_id = ANY(:ids) ORDER BY id
                    """)
                .bindArray("ids", Long.class, List.copyOf(mailIds))
                .map((rs, ctx) ->
                    new DeliveryRecipient(
                        rs.getLong("id"),
                        rs.getLong("mail_id"),
                        rs.getString("kind"),
                        rs.getString("address"),
                        rs.getString("display_name"),
                        rs.getString("domain"),
                        rs.getString("status"),
                        rs.getInt("attempts")))
                .list());
    return rows.stream()
        .collect(Collectors.groupingBy(DeliveryRecipient::mailId, Collectors.toList()));
  }

  /** The attachments of the given mails, in the order they were attached, by mail id. */
  public Map<Long, List<DeliveryAttachment>> attachments(Collection<Long> mailIds) {
    if (mailIds.isEmpty()) {
      return Map.of();
    }
    List<DeliveryAttachment> rows =
        jdbi.withHandle(h ->
            h.createQuery(
                    """
                    SELECT mail_id, filename, content_type, content_id, content
                      FROM mail.attachment WHERE mail_id = ANY(:ids) ORDER BY id
                    """)
                .bindArray("ids", Long.class, List.copyOf(mailIds))
                .map((rs, ctx) ->
                    new DeliveryAttachment(
                        rs.getLong("mail_id"),
                        rs.getString("filename"),
                        rs.getString("content_type"),
                        rs.getString("content_id"),
                        rs.getBytes("content")))
                .list());
    return rows.stream()
        .collect(Collectors.groupingBy(DeliveryAttachment::mailId, Collectors.toList()));
  }

  /** Every profile's accounts in failover order, by profile id. */
  public Map<Integer, List<DeliveryAccount>> accountsByProfile() {
    Map<Integer, List<DeliveryAccount>> out = new HashMap<>();
    jdbi.useHandle(h ->
        h.createQuery(
                """
                SELECT pa.profile_id, a.id, a.name, a.host, a.port, a.tls, a.tls_verify,
                       a.tls_ca_pem, a.username, a.password, a.auth, a.from_address,
                       a.display_name, a.reply_to, a.helo_name, a.delivery,
                       a.max_connections, a.rate_per_minute
                  FROM mail.profile_account pa JOIN mail.account a ON a.id = pa.account_id
                 ORDER BY pa.profile_id, pa.sequence, a.id
                """)
            .map((rs, ctx) -> {
              DeliveryAccount a =
                  new DeliveryAccount(
                      rs.getInt("id"),
                      rs.getString("name"),
                      rs.getString("host"),
                      rs.getInt("port"),
                      rs.getString("tls"),
                      rs.getBoolean("tls_verify"),
                      rs.getString("tls_ca_pem"),
                      rs.getString("username"),
                      rs.getString("password"),
                      rs.getString("auth"),
                      rs.getString("from_address"),
                      rs.getString("display_name"),
                      rs.getString("reply_to"),
                      rs.getString("helo_name"),
                      rs.getString("delivery"),
                      rs.getInt("max_connections"),
                      rs.getObject("rate_per_minute", Integer.class));
              out.computeIfAbsent(rs.getInt("profile_id"), k -> new ArrayList<>()).add(a);
              return a;
            })
            .list());
    return out;
  }

  /** The values of the named settings (defaults applied by {@code mail.setting}). */
  public Map<String, String> settings(Collection<String> names) {
    Map<String, String> out = new HashMap<>();
    jdbi.useHandle(h -> {
      for (String name : names) {
        out.put(
            name,
            h.createQuery("SELECT mail.setting(:name)")
                .bind("name", name)
                .mapTo(String.class)
                .one());
      }
    });
    return out;
  }

  /** An interval-valued setting, parsed by PostgreSQL. */
  public java.time.Duration intervalSetting(String name) {
    double seconds =
        jdbi.withHandle(h ->
            h.createQuery("SELECT extract(epoch FROM mail.setting(:name)::interval)::float8")
                .bind("name", name)
                .mapTo(Double.class)
                .one());
    return java.time.Duration.ofMillis(Math.round(seconds * 1000));
  }

  /** The retry schedule setting as seconds, parsed by PostgreSQL's own interval syntax. */
  public List<Double> retryScheduleSeconds() {
    return jdbi.withHandle(h ->
        h.createQuery(
                """
                SELECT extract(epoch FROM trim(step)::interval)::float8
                  FROM unnest(string_to_array(mail.setting('retry_schedule'), ','))
                       WITH ORDINALITY AS s(step, n)
                 ORDER BY n
                """)
            .mapTo(Double.class)
            .list());
  }

  /**
   * The mail a notification reports on, with its failed recipients (or, for a delay report, its
   * deferred ones); null when it has been purged.
   */
  public ReportedMail reported(long mailId, boolean delay) {
    return jdbi.withHandle(
        h -> {
          List<ReportedMail.Recipient> failed =
              h.createQuery(
                      """
                      SELECT r.address, r.reply_code, r.enhanced_code, r.reply_text,
                             r.remote_host, r.updated_at,
                             EXISTS (SELECT 1 FROM mail.event_log e
                                      WHERE e.mail_id = r.mail_id AND e.recipient_id = r.id
                                        AND e.event = 'expired') AS expired
                        FROM mail.recipient r
                       WHERE r.mail_id = :id AND r.status = :status::mail.recipient_status
                       ORDER BY r.id
                      """)
                  .bind("id", mailId)
                  .bind("status", delay ? "deferred" : "failed")
                  .map(
                      (rs, ctx) ->
                          new ReportedMail.Recipient(
                              rs.getString("address"),
                              rs.getObject("reply_code", Integer.class),
                              rs.getString("enhanced_code"),
                              rs.getString("reply_text"),
                              rs.getString("remote_host"),
                              ClaimStore.instant(rs, "updated_at"),
                              rs.getBoolean("expired")))
                  .list();
          return h.createQuery(
                  """
                  SELECT o.id, o.message_id, o.created_at, o.subject, o.expires_at,
                         coalesce(o.from_address, a.from_address) AS sender, a.name AS account
                    FROM mail.outbox o LEFT JOIN mail.account a ON a.id = o.account_id
                   WHERE o.id = :id
                  """)
              .bind("id", mailId)
              .map(
                  (rs, ctx) ->
                      new ReportedMail(
                          rs.getLong("id"),
                          rs.getString("message_id"),
                          ClaimStore.instant(rs, "created_at"),
                          rs.getString("subject"),
                          rs.getString("sender"),
                          rs.getString("account"),
                          ClaimStore.instant(rs, "expires_at"),
                          delay,
                          failed))
              .findOne()
              .orElse(null);
        });
  }

  /**
   * Writes an attempt's results in one statement: recipient rows (only those still open, so a
   * delivered recipient never changes), events, and the mail's state when the attempt is over.
   * Returns false, having written nothing, when the lease is no longer this dispatcher's.
   */
  public boolean record(DeliveryRecord r) {
    return jdbi.inTransaction(h -> record(h, r));
  }

  /**
   * Writes several records in one transaction (one commit for all), returning for each whether
   * its lease was still held. If the transaction fails, nothing of it is written.
   */
  public List<Boolean> recordAll(List<DeliveryRecord> records) {
    return jdbi.inTransaction(
        h -> {
          List<Boolean> held = new ArrayList<>(records.size());
          for (DeliveryRecord r : records) {
            held.add(record(h, r));
          }
          return held;
        });
  }

  private boolean record(org.jdbi.v3.core.Handle h, DeliveryRecord r) {
    DeliveryRecord.Finish f = r.finish();
    List<RecipientResult> rs = r.results();
    List<DeliveryEvent> es = r.events();
          long held =
            h.createQuery(RECORD)
                .bind("now", ts(r.now()))
                .bind("mail", r.mail().id())
                .bind("token", r.mail().leaseToken().toString())
                .bind("createdBy", r.mail().createdBy())
                .bind("dispatcher", dispatcher)
                .bind("finished", f != null)
                .bind("status", f == null ? null : f.status())
                .bind("next", f == null ? null : ts(f.nextAttemptAt()))
                .bind("account", f == null ? null : f.accountId())
                .bind("code", f == null ? null : f.lastReplyCode())
                .bind("enhanced", f == null ? null : f.lastEnhancedCode())
                .bind("text", f == null ? null : f.lastReplyText())
                .bindArray("rids", Long.class, map(rs, RecipientResult::recipientId))
                .bindArray("rstatuses", String.class, map(rs, RecipientResult::status))
                .bindArray("rcodes", Integer.class, map(rs, RecipientResult::replyCode))
                .bindArray("renhanced", String.class, map(rs, RecipientResult::enhancedCode))
                .bindArray("rtexts", String.class, map(rs, RecipientResult::replyText))
                .bindArray("rstages", String.class, map(rs, RecipientResult::stage))
                .bindArray("rhosts", String.class, map(rs, RecipientResult::remoteHost))
                .bindArray("rfwds", String.class, map(rs, RecipientResult::forwardPath))
                .bindArray("erids", Long.class, map(es, DeliveryEvent::recipientId))
                .bindArray("eevents", String.class, map(es, DeliveryEvent::event))
                .bindArray("eaccounts", String.class, map(es, DeliveryEvent::accountName))
                .bindArray("ehosts", String.class, map(es, DeliveryEvent::remoteHost))
                .bindArray("estages", String.class, map(es, DeliveryEvent::stage))
                .bindArray("ecodes", Integer.class, map(es, DeliveryEvent::replyCode))
                .bindArray("eenhanced", String.class, map(es, DeliveryEvent::enhancedCode))
                .bindArray("etexts", String.class, map(es, DeliveryEvent::replyText))
                .mapTo(Long.class)
                .one();
          String notify =
              f == null || r.mail().isNotification()
                  ? null
                  : FAILED.contains(f.status())
                      ? NOTIFY_SENDER
                      : f.status().equals("retrying") ? NOTIFY_DELAY : null;
          if (held > 0 && notify != null) {
            h.createUpdate(notify)
                .bind("mail", r.mail().id())
                .bind("now", ts(r.now()))
                .bind("dispatcher", dispatcher)
                .execute();
          }
          return held > 0;
  }

  private static <T, R> List<R> map(List<T> items, java.util.function.Function<T, R> f) {
    List<R> out = new ArrayList<>(items.size());
    for (T item : items) {
      out.add(f.apply(item));
    }
    return out;
  }
}
