package dev.postroom.cli;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;

/**
 * The arguments of one {@code mail.send} call, as the command line gathers them; null means the
 * function's default. Address lists use the function's own syntax ({@code ;} or {@code ,}).
 */
record SendRequest(
    String recipients,
    String copyRecipients,
    String blindCopyRecipients,
    String subject,
    String body,
    boolean html,
    String profile,
    String from,
    String replyTo,
    String importance,
    Integer priority,
    OffsetDateTime sendAt,
    String idempotencyKey,
    List<Attachment> attachments) {

  record Attachment(String filename, String contentType, byte[] content) {}

  SendRequest {
    Objects.requireNonNull(recipients, "recipients");
    attachments = List.copyOf(attachments);
  }

  static SendRequest simple(String recipients, String subject, String body, String profile) {
    return new SendRequest(
        recipients,
        null,
        null,
        subject,
        body,
        false,
        profile,
        null,
        null,
        null,
        null,
        null,
        null,
        List.of());
  }

  SendRequest withCopies(String cc, String bcc) {
    return new SendRequest(
        recipients,
        cc,
        bcc,
        subject,
        body,
        html,
        profile,
        from,
        replyTo,
        importance,
        priority,
        sendAt,
        idempotencyKey,
        attachments);
  }

  SendRequest withHtml(List<Attachment> files) {
    return new SendRequest(
        recipients,
        copyRecipients,
        blindCopyRecipients,
        subject,
        body,
        true,
        profile,
        from,
        replyTo,
        importance,
        priority,
        sendAt,
        idempotencyKey,
        files);
  }

  /** Calls {@code mail.send} with named arguments and returns the new (or first) mail's id. */
  long send(Connection c) throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT mail.send(recipients => ?::text, subject => ?::text, body => ?::text,"
                + " body_format => ?::text, profile_name => ?::text,"
                + " copy_recipients => ?::text, blind_copy_recipients => ?::text,"
                + " from_address => ?::text, reply_to => ?::text,"
                + " importance => coalesce(?::text, 'normal'), priority => coalesce(?::int, 0),"
                + " send_at => ?::timestamptz, idempotency_key => ?::text");
    if (!attachments.isEmpty()) {
      sql.append(", attachments => ARRAY[");
      for (int i = 0; i < attachments.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("ROW(?::text, ?::text, ?::bytea)");
      }
      sql.append("]::mail.attachment_in[]");
    }
    sql.append(')');
    try (PreparedStatement st = c.prepareStatement(sql.toString())) {
      int i = 1;
      st.setString(i++, recipients);
      st.setString(i++, subject);
      st.setString(i++, body);
      st.setString(i++, html ? "html" : "text");
      st.setString(i++, profile);
      st.setString(i++, copyRecipients);
      st.setString(i++, blindCopyRecipients);
      st.setString(i++, from);
      st.setString(i++, replyTo);
      st.setString(i++, importance);
      if (priority == null) {
        st.setNull(i++, Types.INTEGER);
      } else {
        st.setInt(i++, priority);
      }
      st.setObject(i++, sendAt);
      st.setString(i++, idempotencyKey);
      for (Attachment file : attachments) {
        st.setString(i++, file.filename());
        st.setString(i++, file.contentType());
        st.setBytes(i++, file.content());
      }
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
