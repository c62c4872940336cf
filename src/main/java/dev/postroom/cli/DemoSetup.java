package dev.postroom.cli;

import dev.postroom.config.DatabaseConfig;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the demo puts in place: its database (created through the server's maintenance database when
 * missing), an account pointing at the capture server, a profile, and a handful of mails that show
 * each outcome.
 */
final class DemoSetup {
  static final String ACCOUNT = "demo";
  static final String PROFILE = "demo";
  static final String FROM = "demo@postroom.test";
  static final String REJECTED = "nobody@example.com";
  static final String DEFERRED = "greylisted@example.net";

  /** The capture server's answers to RCPT for the two demo addresses that do not get a 250. */
  static final Map<String, String> CAPTURE_REPLIES =
      Map.of(
          REJECTED,
          "550 5.1.1 <" + REJECTED + ">: Recipient address rejected: User unknown",
          DEFERRED,
          "451 4.7.1 <" + DEFERRED + ">: Recipient address rejected: Greylisted, try again later");

  /** The maintenance databases libpq's createdb tries, in order. */
  static final List<String> MAINTENANCE_DATABASES = List.of("postgres", "template1");

  private DemoSetup() {}

  /** Connects to the demo database, creating it first if the server does not have it. */
  static boolean ensureDatabase(DatabaseConfig demo) throws SQLException {
    try (Connection c = demo.connect()) {
      return false;
    } catch (SQLException e) {
      if (!"3D000".equals(e.getSQLState())) {
        throw e;
      }
    }
    SQLException last = null;
    for (String maintenance : MAINTENANCE_DATABASES) {
      try (Connection c = demo.withDatabase(maintenance).connect();
          Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE " + quoteIdentifier(demo.database()));
        return true;
      } catch (SQLException e) {
        if ("42P04".equals(e.getSQLState())) {
          return false;
        }
        last = e;
        if (!"3D000".equals(e.getSQLState())) {
          break;
        }
      }
    }
    throw last;
  }

  /**
   * Points the demo account at the capture server (creating account and profile on the first run)
   * and cancels what an earlier run left unfinished, so this run's table shows only its own mails.
   */
  static void configure(Connection c, String host, int port) throws SQLException {
    boolean exists;
    try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM mail.account WHERE name = ?")) {
      st.setString(1, ACCOUNT);
      try (ResultSet rs = st.executeQuery()) {
        exists = rs.next();
      }
    }
    if (exists) {
      try (PreparedStatement st =
          c.prepareStatement(
              "UPDATE mail.account SET host = ?, port = ?, tls = 'none', updated_at = now()"
                  + " WHERE name = ?")) {
        st.setString(1, host);
        st.setInt(2, port);
        st.setString(3, ACCOUNT);
        st.executeUpdate();
      }
    } else {
      try (PreparedStatement st =
          c.prepareStatement(
              "SELECT mail.add_account(name => ?, host => ?, port => ?, tls => 'none',"
                  + " from_address => ?, display_name => 'Postroom demo',"
                  + " helo_name => 'demo.postroom.test')")) {
        st.setString(1, ACCOUNT);
        st.setString(2, host);
        st.setInt(3, port);
        st.setString(4, FROM);
        st.executeQuery().close();
      }
      boolean hasDefault;
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT 1 FROM mail.profile WHERE is_default")) {
        hasDefault = rs.next();
      }
      Profiles.addAccount(c, PROFILE, ACCOUNT, !hasDefault);
    }
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT mail.cancel(o.id) FROM mail.outbox o JOIN mail.profile p ON p.id = o.profile_id"
                + " WHERE p.name = ? AND o.status IN ('queued', 'retrying')")) {
      st.setString(1, PROFILE);
      st.executeQuery().close();
    }
    // the previous run's 550 5.1.1 put the rejected address on the suppression list; lift it so
    // every run shows the rejection itself
    try (PreparedStatement st = c.prepareStatement("SELECT mail.unsuppress(?)")) {
      st.setString(1, REJECTED);
      st.executeQuery().close();
    }
  }

  /** Enqueues the demo's mails and returns their ids in order. */
  static List<Long> enqueue(Connection c) throws SQLException {
    List<SendRequest> mails = new ArrayList<>();
    mails.add(
        SendRequest.simple(
            "Ann Example <ann@example.com>",
            "Welcome to Postroom",
            "Hello Ann,\n\nthis mail was enqueued with mail.send and delivered by a dispatcher.\n",
            PROFILE));
    mails.add(
        SendRequest.simple(
                "bob@example.org",
                "Invoice 42",
                "<h1>Invoice 42</h1><p>Please find the details <b>attached</b>.</p>",
                PROFILE)
            .withHtml(
                List.of(
                    new SendRequest.Attachment(
                        "invoice-42.csv",
                        "text/csv",
                        "item,amount\nwidgets,40.00\nshipping,2.00\n"
                            .getBytes(StandardCharsets.UTF_8)))));
    mails.add(
        SendRequest.simple(
                "ann@example.com; Carol <carol@example.com>",
                "Team update",
                "One mail, several recipients: each gets its own row in mail.recipient.\n",
                PROFILE)
            .withCopies("dave@example.org", "erin@example.net"));
    mails.add(
        SendRequest.simple(
            "ann@example.com; " + REJECTED,
            "One good address, one unknown",
            "The capture server accepts ann and rejects the other address with 550 5.1.1.\n",
            PROFILE));
    mails.add(
        SendRequest.simple(
            DEFERRED,
            "Greylisted",
            "The capture server defers this recipient with 451; the dispatcher retries later.\n",
            PROFILE));
    List<Long> ids = new ArrayList<>();
    for (SendRequest mail : mails) {
      ids.add(mail.send(c));
    }
    return ids;
  }

  static String quoteIdentifier(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }
}
