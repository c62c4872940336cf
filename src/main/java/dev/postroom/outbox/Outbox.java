package dev.postroom.outbox;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Enqueues mail from Java through {@code mail.send}, in one statement on the caller's connection:
 * the mail commits or rolls back with the caller's transaction (or on its own under auto-commit).
 *
 * <p>Failures surface as {@link OutboxException} with the SQLSTATE and the server's message only;
 * the statement's bound values (addresses, bodies) never appear in exception messages or logs.
 */
public final class Outbox {
  static final String SEND_SQL =
      "SELECT mail.send(recipients => ?, subject => ?, body => ?, body_format => ?,"
          + " profile_name => ?, copy_recipients => ?, blind_copy_recipients => ?,"
          + " from_address => ?, reply_to => ?, importance => ?, sensitivity => ?,"
          + " headers => CAST(? AS jsonb),"
          + " attachments => (SELECT array_agg(ROW(a.f, a.t, a.c)::mail.attachment_in ORDER BY a.n)"
          + "   FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS bytea[]))"
          + "   WITH ORDINALITY AS a (f, t, c, n)),"
          + " send_at => ?, priority => ?, idempotency_key => ?)";

  private Outbox() {}

  /**
   * Enqueues the mail on the handle's connection and returns its id (or, for a repeated idempotency
   * key, the first mail's id). Runs plain JDBC on {@link Handle#getConnection()}, so Jdbi's
   * statement rendering never sees the bound values.
   */
  public static long send(Handle handle, OutgoingMail mail) {
    return send(handle.getConnection(), mail);
  }

  /**
   * Enqueues the mail on the connection and returns its id; see {@link #send(Handle,
   * OutgoingMail)}.
   */
  public static long send(Connection connection, OutgoingMail mail) {
    try (PreparedStatement st = connection.prepareStatement(SEND_SQL)) {
      int i = 0;
      st.setString(++i, mail.recipients());
      st.setString(++i, mail.subject());
      st.setString(++i, mail.body());
      st.setString(++i, mail.bodyFormat().sql());
      st.setString(++i, mail.profileName());
      st.setString(++i, mail.copyRecipients());
      st.setString(++i, mail.blindCopyRecipients());
      st.setString(++i, mail.fromAddress());
      st.setString(++i, mail.replyTo());
      st.setString(++i, mail.importance().sql());
      st.setString(++i, mail.sensitivity().sql());
      st.setString(++i, mail.headers().isEmpty() ? null : Json.object(mail.headers()));
      List<OutgoingMail.Attachment> files = mail.attachments();
      if (files.isEmpty()) {
        st.setNull(++i, Types.ARRAY);
        st.setNull(++i, Types.ARRAY);
        st.setNull(++i, Types.ARRAY);
      } else {
        st.setArray(++i, textArray(connection, files.stream().map(f -> f.filename()).toList()));
        st.setArray(++i, textArray(connection, files.stream().map(f -> f.contentType()).toList()));
        st.setArray(
            ++i,
            connection.createArrayOf(
                "bytea", files.stream().map(f -> f.content()).toArray(byte[][]::new)));
      }
      st.setObject(
          ++i,
          mail.sendAt() == null ? null : OffsetDateTime.ofInstant(mail.sendAt(), ZoneOffset.UTC));
      st.setInt(++i, mail.priority());
      st.setString(++i, mail.idempotencyKey());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  /** Cancels a queued or retrying mail; false when it is in any other state or not visible. */
  public static boolean cancel(Connection connection, long mailId) {
    return call(connection, "SELECT mail.cancel(?)", mailId);
  }

  /**
   * Re-queues what failed of a failed, partially sent or cancelled mail; false if nothing to do.
   */
  public static boolean retry(Connection connection, long mailId) {
    return call(connection, "SELECT mail.retry(?)", mailId);
  }

  private static boolean call(Connection connection, String sql, long mailId) {
    try (PreparedStatement st = connection.prepareStatement(sql)) {
      st.setLong(1, mailId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  private static Array textArray(Connection connection, List<String> values) throws SQLException {
    return connection.createArrayOf("text", values.toArray(String[]::new));
  }

  /** The server's own message (which names the bad value on purpose), without the statement. */
  static OutboxException failure(SQLException e) {
    if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
      ServerErrorMessage server = p.getServerErrorMessage();
      return new OutboxException(server.getSQLState(), server.getMessage(), e);
    }
    return new OutboxException(e.getSQLState(), "outbox call failed: " + e.getMessage(), e);
  }

  /** Minimal JSON writing for a flat string map; the database parses it as jsonb. */
  static final class Json {
    private Json() {}

    static String object(Map<String, String> map) {
      StringBuilder out = new StringBuilder("{");
      for (Map.Entry<String, String> e : map.entrySet()) {
        if (out.length() > 1) {
          out.append(',');
        }
        string(out, e.getKey()).append(':');
        if (e.getValue() == null) {
          out.append("null");
        } else {
          string(out, e.getValue());
        }
      }
      return out.append('}').toString();
    }

    private static StringBuilder string(StringBuilder out, String s) {
      out.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          default -> {
            if (c < 0x20) {
              out.append(String.format("\\u%04x", (int) c));
            } else {
              out.append(c);
            }
          }
        }
      }
      return out.append('"');
    }
  }
}
