package dev.postroom.bench;

import com.zaxxer.hikari.HikariDataSource;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The reference Postroom is measured against: the dispatcher most people write by hand. A table of
 * its own (one row a mail, a status column), 16 threads, each taking a batch of 100 due rows with
 * {@code FOR UPDATE SKIP LOCKED}, sending them with Jakarta Mail (Angus) over one SMTP connection
 * per thread that it keeps open, and marking the batch sent with one {@code UPDATE … WHERE id =
 * ANY(…)} before it commits. No per-recipient outcome, no events, no lease, no retry.
 */
final class NaiveDispatcher {
  static final int THREADS = 16;
  static final int BATCH = 100;

  private NaiveDispatcher() {}

  static void createTable(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE IF NOT EXISTS naive_outbox (id bigserial PRIMARY KEY,"
              + " recipient text NOT NULL, subject text NOT NULL, body text NOT NULL,"
              + " status text NOT NULL DEFAULT 'queued', sent_at timestamptz)");
      st.execute(
          "CREATE INDEX IF NOT EXISTS naive_outbox_queued ON naive_outbox (id)"
              + " WHERE status = 'queued'");
    }
  }

  static void enqueue(Connection c, int mails, String body) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO naive_outbox (recipient, subject, body)"
                + " SELECT 'u' || g || '@example.com', 'Bench ' || g, ? FROM generate_series(1, ?) g")) {
      ps.setString(1, body);
      ps.setInt(2, mails);
      ps.executeUpdate();
    }
  }

  /** Drains every queued row; returns how many it sent. */
  static long drain(HikariDataSource pool, int smtpPort) throws Exception {
    Properties props = new Properties();
    props.setProperty("mail.smtp.host", "127.0.0.1");
    props.setProperty("mail.smtp.port", String.valueOf(smtpPort));
    props.setProperty("mail.smtp.from", "bench@postroom.test");
    Session session = Session.getInstance(props);
    ExecutorService threads = Executors.newFixedThreadPool(THREADS);
    List<Future<Long>> results = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      results.add(threads.submit(() -> worker(pool, session)));
    }
    long sent = 0;
    for (Future<Long> f : results) {
      sent += f.get();
    }
    threads.shutdown();
    return sent;
  }

  private static long worker(HikariDataSource pool, Session session)
      throws SQLException, MessagingException {
    long sent = 0;
    try (Connection c = pool.getConnection();
        Transport transport = session.getTransport("smtp");
        PreparedStatement claim =
            c.prepareStatement(
                "SELECT id, recipient, subject, body FROM naive_outbox WHERE status = 'queued'"
                    + " ORDER BY id LIMIT "
                    + BATCH
                    + " FOR UPDATE SKIP LOCKED");
        PreparedStatement done =
            c.prepareStatement(
                "UPDATE naive_outbox SET status = 'sent', sent_at = now() WHERE id = ANY(?)")) {
      transport.connect();
      c.setAutoCommit(false);
      while (true) {
        List<Long> ids = new ArrayList<>();
        try (ResultSet rs = claim.executeQuery()) {
          while (rs.next()) {
            MimeMessage m = new MimeMessage(session);
            m.setFrom(new InternetAddress("bench@postroom.test"));
            m.setRecipients(Message.RecipientType.TO, rs.getString(2));
            m.setSubject(rs.getString(3), "UTF-8");
            m.setText(rs.getString(4), "UTF-8");
            m.setSentDate(new Date());
            m.saveChanges();
            transport.sendMessage(m, m.getAllRecipients());
            ids.add(rs.getLong(1));
          }
        }
        if (ids.isEmpty()) {
          c.commit();
          return sent;
        }
        Array array = c.createArrayOf("bigint", ids.toArray());
        done.setArray(1, array);
        done.executeUpdate();
        c.commit();
        sent += ids.size();
      }
    }
  }
}
