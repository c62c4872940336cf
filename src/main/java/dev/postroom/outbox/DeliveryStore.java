package dev.postroom.outbox;

import static dev.postroom.outbox.ClaimStore.ts;

import java.io.InputStream;
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
  /**
   * Queues a delivery status notification to the sender: {@code :kind} 'failure' for a mail that
   * ended with failed recipients (when {@code notify_sender_on_failure} is on), 'delay' once for a
   * mail still deferred after {@code notify_sender_on_delay}. Never for a notification itself.
   */
  private static final String NOTIFY =
      """
      WITH original AS (
        SELECT o.id, o.profile_id, o.created_by, o.subject,
               coalesce(o.from_address, a.from_address) AS sender
          FROM mail.outbox o LEFT JOIN mail.account a ON a.id = o.account_id
         WHERE o.id = :mail AND o.report_for IS NULL
           AND CASE :kind
                 WHEN 'failure' THEN
                   mail.setting('notify_sender_on_failure')::boolean
                   AND EXISTS (SELECT 1 FROM mail.recipient r
                                WHERE r.mail_id = o.id AND r.status = 'failed')
                 ELSE
                   o.created_at + mail.setting('notify_sender_on_delay')::interval <= :now
                   AND NOT EXISTS (SELECT 1 FROM mail.outbox d
                                    WHERE d.report_for = o.id AND d.report_kind = 'delay')
               END),
      dsn AS (
        INSERT INTO mail.outbox
          (recipients, subject, body, profile_id, report_for, report_kind, created_by)
        SELECT sender,
               CASE :kind WHEN 'failure' THEN 'Undelivered Mail Returned to Sender'
                          ELSE 'Delayed Mail (still being retried)' END,
               CASE :kind
                 WHEN 'failure' THEN 'Some recipients of your message "' || coalesce(subject, '')
                   || '" could not be reached. The delivery status report is attached.'
                 ELSE 'Your message "' || coalesce(subject, '') || '" has not been delivered to'
                   || ' every recipient yet. Postroom keeps trying; the status report is attached.'
               END,
               profile_id, id, :kind, created_by
          FROM original WHERE sender IS NOT NULL
        RETURNING id, report_for)
      INSERT INTO mail.event_log (mail_id, logged_at, event, reply_text, dispatcher, created_by)
      SELECT d.report_for, :now, 'notification_queued',
             :kind || ' notification ' || d.id || ' queued for the sender', :dispatcher,
             o.created_by
        FROM dsn d JOIN original o ON o.id = d.report_for
      """;

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(DeliveryStore.class);

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
                        RecipientStatus.fromSql(rs.getString("status")),
                        rs.getInt("attempts")))
                .list());
    return rows.stream()
        .collect(Collectors.groupingBy(DeliveryRecipient::mailId, Collectors.toList()));
  }

  /**
   * The attachments of the given mails without their content, in the order they were attached, by
   * mail id; {@link #openAttachment} reads the content.
   */
  public Map<Long, List<DeliveryAttachment>> attachments(Collection<Long> mailIds) {
    if (mailIds.isEmpty()) {
      return Map.of();
    }
    List<DeliveryAttachment> rows =
        jdbi.withHandle(h ->
            h.createQuery(
                    """
                    SELECT id, mail_id, filename, content_type, content_id,
                           octet_length(content) AS size
                      FROM mail.attachment WHERE mail_id = ANY(:ids) ORDER BY id
                    """)
                .bindArray("ids", Long.class, List.copyOf(mailIds))
                .map((rs, ctx) ->
                    new DeliveryAttachment(
                        rs.getLong("id"),
                        rs.getLong("mail_id"),
                        rs.getString("filename"),
                        rs.getString("content_type"),
                        rs.getString("content_id"),
                        rs.getLong("size")))
                .list());
    return rows.stream()
        .collect(Collectors.groupingBy(DeliveryAttachment::mailId, Collectors.toList()));
  }

  /**
   * The content of one attachment, read in chunks of {@link AttachmentStream#CHUNK} octets, one
   * short query each: at most one chunk per open stream is in memory.
   */
  public InputStream openAttachment(DeliveryAttachment attachment) {
    return new AttachmentStream(jdbi, attachment.id(), attachment.size());
  }

  private static final String ACCOUNT_COLUMNS =
      """
      a.id, a.name, a.host, a.port, a.tls, a.tls_verify, a.tls_ca_pem, a.username, a.password,
      a.auth, a.from_address, a.display_name, a.reply_to, a.helo_name, a.delivery,
      a.max_connections, a.rate_per_minute
      """;

  /** Every profile's accounts in failover order, by profile id. */
  public Map<Integer, List<DeliveryAccount>> accountsByProfile() {
    Map<Integer, List<DeliveryAccount>> out = new HashMap<>();
    jdbi.useHandle(h ->
        h.createQuery(
                "SELECT pa.profile_id, "
                    + ACCOUNT_COLUMNS
                    + """
                      FROM mail.profile_account pa JOIN mail.account a ON a.id = pa.account_id
                     ORDER BY pa.profile_id, pa.sequence, a.id
                    """)
            .map((rs, ctx) -> {
              DeliveryAccount a = account(rs);
              out.computeIfAbsent(rs.getInt("profile_id"), k -> new ArrayList<>()).add(a);
              return a;
            })
            .list());
    return out;
  }

  /** The account with this name, for {@code postroom account test}; empty when there is none. */
  public java.util.Optional<DeliveryAccount> account(String name) {
    return jdbi.withHandle(h ->
        h.createQuery("SELECT " + ACCOUNT_COLUMNS + " FROM mail.account a WHERE a.name = :name")
            .bind("name", name)
            .map((rs, ctx) -> account(rs))
            .findOne());
  }

  private static DeliveryAccount account(java.sql.ResultSet rs) throws java.sql.SQLException {
    return new DeliveryAccount(
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
  }

  /**
   * Every setting's value as {@code mail.setting} gives it (the configured value, else the default
   * from {@code mail.setting}; Java restates no default), with interval-valued settings also in
   * seconds as PostgreSQL parses them. Read in one query.
   */
  public SettingValues settings() {
    Map<String, SettingValues.Value> out = new HashMap<>();
    jdbi.useHandle(h ->
        h.createQuery(
                """
                SELECT s.name, v.value,
                       CASE WHEN v.value IS NULL THEN NULL
                            WHEN s.kind IN ('positive_interval', 'timeout')
                              THEN ARRAY[extract(epoch FROM v.value::interval)::float8]
                            WHEN s.kind = 'interval_list'
                              THEN ARRAY(SELECT extract(epoch FROM trim(x)::interval)::float8
                                           FROM unnest(string_to_array(v.value, ','))
                                                WITH ORDINALITY AS u(x, n)
                                          ORDER BY n)
                       END AS seconds
                  FROM mail.setting s CROSS JOIN LATERAL (SELECT mail.setting(s.name) AS value) v
                """)
            .map((rs, ctx) -> {
              java.sql.Array seconds = rs.getArray("seconds");
              List<Double> list = new ArrayList<>();
              if (seconds != null) {
                for (Object o : (Object[]) seconds.getArray()) {
                  list.add(((Number) o).doubleValue());
                }
              }
              return out.put(
                  rs.getString("name"),
                  new SettingValues.Value(rs.getString("value"), seconds == null ? null : list));
            })
            .list());
    return new SettingValues(out);
  }

  /**
   * The mail a notification reports on, with its failed recipients (or, for a delay report, its
   * deferred ones); null when it has been purged.
   */
  public ReportedMail reported(long mailId, boolean delay) {
    return jdbi.withHandle(h -> {
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
              .map((rs, ctx) ->
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
          .map((rs, ctx) ->
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
    return recordAll(List.of(r)).get(0);
  }

  /**
   * Writes several records in one transaction and one statement, returning for each whether its
   * lease was still held. Notifications to senders are queued in the same transaction, each behind
   * a savepoint: one that cannot be queued is logged as {@code notification_failed} and never
   * undoes the results.
   */
  public List<Boolean> recordAll(List<DeliveryRecord> records) {
    return jdbi.inTransaction(h -> {
      java.util.Set<Long> held = DeliveryRecorder.write(h, records, dispatcher);
      List<Boolean> out = new ArrayList<>(records.size());
      for (DeliveryRecord r : records) {
        boolean ok = held.contains(r.mail().id());
        out.add(ok);
        String kind = ok ? notificationKind(r) : null;
        if (kind != null) {
          notify(h, r, kind);
        }
      }
      return out;
    });
  }

  private void notify(org.jdbi.v3.core.Handle h, DeliveryRecord r, String kind) {
    String savepoint = "notify_" + r.mail().id();
    h.savepoint(savepoint);
    try {
      h.createUpdate(NOTIFY)
          .bind("kind", kind)
          .bind("mail", r.mail().id())
          .bind("now", ts(r.now()))
          .bind("dispatcher", dispatcher)
          .execute();
      h.release(savepoint);
    } catch (RuntimeException e) {
      h.rollbackToSavepoint(savepoint);
      log.warn(
          "mail {}: the {} notification could not be queued: {}",
          r.mail().id(),
          kind,
          e.toString());
      h.createUpdate(
              """
              INSERT INTO mail.event_log (mail_id, logged_at, event, reply_text, dispatcher,
                                          created_by)
              SELECT id, :now, 'notification_failed', :text, :dispatcher, created_by
                FROM mail.outbox WHERE id = :mail
              """)
          .bind("mail", r.mail().id())
          .bind("now", ts(r.now()))
          .bind("text", kind + " notification could not be queued: " + rootMessage(e))
          .bind("dispatcher", dispatcher)
          .execute();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }

  private static String notificationKind(DeliveryRecord r) {
    DeliveryRecord.Finish f = r.finish();
    if (f == null || r.mail().isNotification()) {
      return null;
    }
    return switch (f.status()) {
      case FAILED, PARTIALLY_SENT -> "failure";
      case RETRYING -> "delay";
      case SENT, QUEUED, SENDING, CANCELLED -> null;
    };
  }
}
