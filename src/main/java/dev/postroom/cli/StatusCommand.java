package dev.postroom.cli;

import dev.postroom.config.DatabaseConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Without an id: the queue summary (mail.queue_status), the failures of the last hour and",
      "the recipients waiting for a retry, grouped by the reply that deferred them.",
      "With a mail id: the mail, and one line per recipient with its status and reply."
    })
final class StatusCommand implements Callable<Integer> {
  static final int RECENT_FAILURES_SHOWN = 10;
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  @Parameters(arity = "0..1", paramLabel = "MAIL_ID", description = "A mail id from send.")
  Long mailId;

  @Option(
      names = "--read-replica",
      description = {
        "Read from a replica where the URL lists one (targetServerType=preferSecondary), to keep",
        "the load off the primary; the figures may lag it by the replication delay."
      })
  boolean readReplica;

  StatusCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws SQLException {
    ctx.logging();
    DatabaseConfig database = ctx.database();
    if (readReplica) {
      database = database.withParameter("targetServerType", "preferSecondary");
    }
    try (Connection c = database.connect()) {
      if (mailId == null) {
        summary(c);
      } else {
        mail(c, mailId);
      }
    }
    return Main.OK;
  }

  private void summary(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM mail.queue_status")) {
      ResultSetMetaData meta = rs.getMetaData();
      ctx.out.println("Queue (mail.queue_status):");
      while (rs.next()) {
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          line(meta.getColumnLabel(i).replace('_', ' '), rs.getString(i));
        }
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
                SELECT r.mail_id, r.address, r.reply_code, r.enhanced_code, r.reply_text,
                       count(*) OVER () AS total
                  FROM mail.recipient r
                 WHERE r.status = 'failed' AND r.updated_at > now() - interval '1 hour'
                 ORDER BY r.updated_at DESC, r.id DESC
                 LIMIT %d
                """
                    .formatted(RECENT_FAILURES_SHOWN))) {
      Table failures = new Table("mail", "recipient", "code", "enhanced", "reply");
      long total = 0;
      while (rs.next()) {
        total = rs.getLong("total");
        failures.row(
            rs.getLong("mail_id"),
            rs.getString("address"),
            rs.getObject("reply_code"),
            rs.getString("enhanced_code"),
            rs.getString("reply_text"));
      }
      ctx.out.println();
      ctx.out.println("Failed recipients in the last hour: " + total);
      if (!failures.isEmpty()) {
        failures.print(ctx.out, "  ");
      }
    }
    deferred(c);
  }

  /**
   * Recipients waiting for a retry, grouped by the reply that deferred them, so that one cause (a
   * wrong password, a host that is down) shows as one line with its count and age.
   */
  private void deferred(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
                SELECT count(*) AS recipients, r.reply_code, r.enhanced_code, r.reply_text,
                       r.remote_host, min(o.created_at) AS since, min(o.next_attempt_at) AS next,
                       sum(count(*)) OVER () AS total
                  FROM mail.recipient r JOIN mail.outbox o ON o.id = r.mail_id
                 WHERE r.status = 'deferred' AND o.status IN ('retrying', 'sending', 'queued')
                 GROUP BY r.reply_code, r.enhanced_code, r.reply_text, r.remote_host
                 ORDER BY count(*) DESC, min(o.created_at)
                 LIMIT %d
                """
                    .formatted(RECENT_FAILURES_SHOWN))) {
      Table groups =
          new Table("recipients", "code", "enhanced", "reply", "host", "waiting since", "next");
      long total = 0;
      while (rs.next()) {
        total = rs.getLong("total");
        groups.row(
            rs.getLong("recipients"),
            rs.getObject("reply_code"),
            rs.getString("enhanced_code"),
            rs.getString("reply_text"),
            rs.getString("remote_host"),
            rs.getString("since"),
            rs.getString("next"));
      }
      ctx.out.println();
      ctx.out.println("Deferred recipients waiting for a retry: " + total);
      if (!groups.isEmpty()) {
        groups.print(ctx.out, "  ");
      }
    }
  }

  private void mail(Connection c, long id) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT id, status, subject, from_address, created_at, created_by, send_at,
                   attempts, next_attempt_at, sent_at, message_id, last_reply_code,
                   last_enhanced_code, last_reply_text, expires_at
              FROM mail.outbox WHERE id = ?
            """)) {
      st.setLong(1, id);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new CliFailure("no mail with id " + id);
        }
        ctx.out.printf("Mail %d: %s%n", id, rs.getString("status"));
        line("subject", rs.getString("subject"));
        line("from", rs.getString("from_address"));
        line("created", rs.getString("created_at") + " by " + rs.getString("created_by"));
        line("message-id", rs.getString("message_id"));
        line("attempts", rs.getString("attempts"));
        line("next attempt", rs.getString("next_attempt_at"));
        line("sent", rs.getString("sent_at"));
        line("expires", rs.getString("expires_at"));
        line(
            "last reply",
            join(
                rs.getString("last_reply_code"),
                rs.getString("last_enhanced_code"),
                rs.getString("last_reply_text")));
      }
    }
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT kind, address, status, reply_code, enhanced_code, reply_text, remote_host,
                   attempts
              FROM mail.recipient WHERE mail_id = ? ORDER BY id
            """)) {
      st.setLong(1, id);
      try (ResultSet rs = st.executeQuery()) {
        Table table =
            new Table("kind", "recipient", "status", "code", "enhanced", "reply", "host", "tries");
        while (rs.next()) {
          table.row(
              rs.getString("kind"),
              rs.getString("address"),
              rs.getString("status"),
              rs.getObject("reply_code"),
              rs.getString("enhanced_code"),
              rs.getString("reply_text"),
              rs.getString("remote_host"),
              rs.getInt("attempts"));
        }
        ctx.out.println();
        table.print(ctx.out, "  ");
      }
    }
  }

  private void line(String label, String value) {
    ctx.out.printf("  %-15s %s%n", label, value == null ? "-" : value);
  }

  private static String join(String... parts) {
    StringBuilder out = new StringBuilder();
    for (String part : parts) {
      if (part != null) {
        out.append(out.isEmpty() ? "" : " ").append(part);
      }
    }
    return out.isEmpty() ? null : out.toString();
  }
}
