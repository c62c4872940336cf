package dev.postroom.web;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SQL behind the pages. Everything runs on the visitor's own connection, so row security
 * filters it; nothing here writes a table directly: retry and cancel go through {@code mail.retry}
 * and {@code mail.cancel}.
 */
final class StatusQueries {
  static final int PAGE_SIZE = 50;

  /** mail.mail_status, in the order of a mail's life. */
  static final List<String> STATUSES =
      List.of("queued", "sending", "retrying", "sent", "partially_sent", "failed", "cancelled");

  static final Set<String> RETRYABLE = Set.of("failed", "partially_sent", "cancelled");
  static final Set<String> CANCELLABLE = Set.of("queued", "retrying");

  /** Delivery outcomes of one minute, oldest first. */
  record Minute(String label, int delivered, int deferred, int failed) {
    int total() {
      return delivered + deferred + failed;
    }
  }

  private StatusQueries() {}

  static Map<String, Object> queue(Connection c) throws SQLException {
    return Rows.one(
        c,
        """
        SELECT queued, sending, retrying, sent, partially_sent, failed, cancelled, due,
               CASE WHEN oldest_due_age IS NULL THEN ''
                    ELSE justify_interval(date_trunc('second', oldest_due_age))::text END
                 AS oldest_due_age
          FROM mail.queue_status
        """);
  }

  /** Recipient outcomes per minute over the last hour (60 entries, the last is this minute). */
  static List<Minute> lastHour(Connection c) throws SQLException {
    String sql =
        """
        SELECT to_char(m.minute AT TIME ZONE 'UTC', 'HH24:MI') AS label,
               count(e.id) FILTER (WHERE e.event = 'delivered') AS delivered,
               count(e.id) FILTER (WHERE e.event = 'deferred') AS deferred,
               count(e.id) FILTER (WHERE e.event = 'failed') AS failed
          FROM generate_series(date_trunc('minute', now()) - interval '59 minutes',
                               date_trunc('minute', now()), interval '1 minute') AS m(minute)
          LEFT JOIN mail.event_log e
            ON e.logged_at >= m.minute AND e.logged_at < m.minute + interval '1 minute'
           AND e.event IN ('delivered', 'deferred', 'failed') AND e.recipient_id IS NOT NULL
         GROUP BY m.minute
         ORDER BY m.minute
        """;
    List<Minute> minutes = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql);
        ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        minutes.add(new Minute(rs.getString(1), rs.getInt(2), rs.getInt(3), rs.getInt(4)));
      }
    }
    return minutes;
  }

  /**
   * The newest mails matching a search (a mail id, or part of an address or subject) and a status,
   * older than {@code before} when given; one more than a page, to tell whether more exist.
   */
  static List<Map<String, Object>> mails(Connection c, String search, String status, Long before)
      throws SQLException {
    String q = search == null || search.isBlank() ? null : search.strip();
    Long id = q != null && q.matches("\\d{1,18}") ? Long.valueOf(q) : null;
    String pattern = q == null ? null : "%" + likeEscape(q) + "%";
    return Rows.query(
        c,
        """
        SELECT o.id, o.status::text AS status, o.created_at, o.created_by, o.subject,
               o.attempts, o.next_attempt_at,
               concat_ws(' ', o.last_reply_code, o.last_enhanced_code, o.last_reply_text) AS reply,
               (SELECT string_agg(r.address, ', ' ORDER BY r.id)
                  FROM mail.recipient r WHERE r.mail_id = o.id) AS recipients
          FROM mail.outbox o
         WHERE (?::text IS NULL OR o.status::text = ?)
           AND (?::bigint IS NULL OR o.id < ?)
           AND (?::text IS NULL
                OR o.id = ?
                OR o.subject ILIKE ? OR o.from_address ILIKE ?
                OR EXISTS (SELECT 1 FROM mail.recipient r
                            WHERE r.mail_id = o.id AND r.address ILIKE ?))
         ORDER BY o.id DESC
         LIMIT ?
        """,
        status,
        status,
        before,
        before,
        pattern,
        id,
        pattern,
        pattern,
        pattern,
        PAGE_SIZE + 1);
  }

  static Map<String, Object> mail(Connection c, long id) throws SQLException {
    return Rows.one(
        c,
        """
        SELECT o.id, o.status::text AS status, o.subject, o.from_address, o.reply_to,
               o.recipients, o.copy_recipients, o.blind_copy_recipients, o.message_id,
               o.importance, o.sensitivity, o.body_format, o.headers::text AS headers,
               o.profile_name, a.name AS account_name, o.priority, o.created_at, o.created_by,
               o.send_at, o.attempts, o.next_attempt_at, o.sent_at, o.expires_at, o.size_bytes,
               o.last_reply_code, o.last_enhanced_code, o.last_reply_text, o.report_for
          FROM mail.outbox o
          LEFT JOIN mail.account a ON a.id = o.account_id
         WHERE o.id = ?
        """,
        id);
  }

  static List<Map<String, Object>> recipients(Connection c, long id) throws SQLException {
    return Rows.query(
        c,
        """
        SELECT kind, address, display_name, status::text AS status, attempts, reply_code,
               enhanced_code, reply_text, smtp_stage, remote_host, delivered_at, next_attempt_at
          FROM mail.recipient WHERE mail_id = ? ORDER BY id
        """,
        id);
  }

  static List<Map<String, Object>> attachments(Connection c, long id) throws SQLException {
    return Rows.query(
        c,
        "SELECT filename, content_type, size_bytes FROM mail.attachment WHERE mail_id = ? ORDER BY id",
        id);
  }

  static List<Map<String, Object>> events(Connection c, long id) throws SQLException {
    return Rows.query(
        c,
        """
        SELECT e.logged_at, e.event, r.address, e.account_name, e.remote_host, e.smtp_stage,
               e.reply_code, e.enhanced_code, e.reply_text, e.dispatcher
          FROM mail.event_log e
          LEFT JOIN mail.recipient r ON r.id = e.recipient_id
         WHERE e.mail_id = ?
         ORDER BY e.logged_at, e.id
        """,
        id);
  }

  /** Whether this role may execute a function, e.g. {@code mail.retry(bigint)}. */
  static boolean mayExecute(Connection c, String function) throws SQLException {
    Map<String, Object> row =
        Rows.one(
            c,
            "SELECT to_regprocedure(?) IS NOT NULL AND has_function_privilege(?, 'EXECUTE') AS ok",
            function,
            function);
    return Boolean.TRUE.equals(row.get("ok"));
  }

  /** Calls {@code mail.retry} or {@code mail.cancel}; true when the mail changed. */
  static boolean call(Connection c, String function, long id) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT " + function + "(?)")) {
      st.setLong(1, id);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  static List<Map<String, Object>> accounts(Connection c) throws SQLException {
    return Rows.query(
        c,
        """
        SELECT id, name, description, delivery, host, port, tls, tls_verify, auth, username,
               from_address, display_name, reply_to, max_connections, rate_per_minute
          FROM mail.account ORDER BY name
        """);
  }

  static List<Map<String, Object>> profiles(Connection c) throws SQLException {
    return Rows.query(
        c,
        """
        SELECT p.id, p.name, p.description, p.is_default,
               (SELECT string_agg(a.name, ', ' ORDER BY pa.sequence)
                  FROM mail.profile_account pa JOIN mail.account a ON a.id = pa.account_id
                 WHERE pa.profile_id = p.id) AS accounts
          FROM mail.profile p ORDER BY p.name
        """);
  }

  private static String likeEscape(String s) {
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }
}
