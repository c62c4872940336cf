package dev.postroom.web;

import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.app.DispatcherRuntime;
import dev.postroom.app.QueueGauges;
import dev.postroom.cli.demo.CaptureSmtpServer;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.config.Environment;
import dev.postroom.dispatch.DispatcherConfig;
import dev.postroom.outbox.Schema;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * A SCRAM cluster with Postroom's schema, three login roles and mail that went through a real
 * dispatcher: {@code alice} and {@code bob} are senders, {@code boss} an admin. Alice has a mail
 * delivered, one failed with 550 5.1.1, one deferred with 451; Bob has one delivered mail.
 */
final class StatusFixture implements AutoCloseable {
  static final String DATABASE = "postroom_web";
  static final String ALICE = "alice";
  static final String BOB = "bob";
  static final String BOSS = "boss";
  static final String ALICE_PASSWORD = "alice's secret";
  static final String BOB_PASSWORD = "bob-Secret-42";
  static final String BOSS_PASSWORD = "b0ss pass";
  static final String OUTSIDER = "outsider";
  static final String OUTSIDER_PASSWORD = "outsider-pw";
  static final String RELAY_PASSWORD = "relay-Password-never-shown";
  static final String REJECTED = "nobody@example.com";
  static final String REJECT_TEXT =
      "<nobody@example.com>: Recipient address rejected: User unknown";
  static final String DEFERRED = "later@example.net";

  final ScramCluster cluster;
  final long aliceDelivered;
  final long aliceFailed;
  final long aliceDeferred;
  final long bobMail;

  private StatusFixture(ScramCluster cluster, long[] ids) {
    this.cluster = cluster;
    this.aliceDelivered = ids[0];
    this.aliceFailed = ids[1];
    this.aliceDeferred = ids[2];
    this.bobMail = ids[3];
  }

  static StatusFixture start() throws Exception {
    ScramCluster cluster = ScramCluster.start();
    try {
      try (Connection c = cluster.superuser("postgres");
          Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE " + DATABASE);
      }
      DatabaseConfig admin = superuserConfig(cluster);
      try (HikariDataSource pool = admin.pool("web-fixture-migrate", 2)) {
        Schema.migrate(pool);
      }
      long[] ids;
      try (Connection c = cluster.superuser(DATABASE);
          Statement st = c.createStatement();
          CaptureSmtpServer capture =
              CaptureSmtpServer.start(
                  Map.of(
                      REJECTED, "550 5.1.1 " + REJECT_TEXT,
                      DEFERRED, "451 4.7.1 <" + DEFERRED + ">: Greylisted, try again later"))) {
        st.execute(
            "CREATE ROLE alice LOGIN IN ROLE mail_sender PASSWORD '" + sql(ALICE_PASSWORD) + "'");
        st.execute(
            "CREATE ROLE bob LOGIN IN ROLE mail_sender PASSWORD '" + sql(BOB_PASSWORD) + "'");
        st.execute(
            "CREATE ROLE boss LOGIN IN ROLE mail_admin PASSWORD '" + sql(BOSS_PASSWORD) + "'");
        try (PreparedStatement add =
            c.prepareStatement(
                "SELECT mail.add_account(name => 'capture', host => ?, port => ?, tls => 'none',"
                    + " from_address => 'postroom@example.com')")) {
          add.setString(1, capture.host());
          add.setInt(2, capture.port());
          add.executeQuery().close();
        }
        st.execute("CREATE ROLE outsider LOGIN PASSWORD '" + sql(OUTSIDER_PASSWORD) + "'");
        st.execute(
            "SELECT mail.add_account(name => 'relay', host => 'smtp.example.com', port => 587,"
                + " username => 'relay-user', password => '"
                + sql(RELAY_PASSWORD)
                + "',"
                + " from_address => 'relay@example.com')");
        // keep the 550 address off the suppression list, so that retry has a recipient to re-queue
        st.execute("SELECT mail.configure('suppress_hard_bounces', 'false')");
        st.execute("SELECT mail.add_profile(name => 'main', is_default => true)");
        st.execute("SELECT mail.add_profile_account('main', 'capture', 1)");
        ids = new long[4];
        st.execute("SET ROLE alice");
        ids[0] = send(c, "ann@example.com", "Welcome <b>Ann</b> & co");
        ids[1] = send(c, REJECTED, "Invoice for nobody");
        ids[2] = send(c, DEFERRED, "Greylisted hello");
        st.execute("SET ROLE bob");
        ids[3] = send(c, "carol@example.org", "Bob's private note");
        st.execute("RESET ROLE");
        try (DispatcherRuntime runtime =
            DispatcherRuntime.create(
                admin.withDatabase(DATABASE),
                DispatcherConfig.defaults("web-fixture"),
                null,
                QueueGauges.DEFAULT_INTERVAL,
                Clock.systemUTC())) {
          runtime.dispatcher().runUntilIdle();
        }
      }
      return new StatusFixture(cluster, ids);
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
  }

  WebConfig webConfig(Duration sessionTimeout) {
    return new WebConfig(
        new InetSocketAddress("127.0.0.1", 0),
        DatabaseConfig.resolve(
            cluster.url(DATABASE) + "?user=nobody", Environment.of(Map.of(), "root")),
        sessionTimeout);
  }

  String status(long id) throws SQLException {
    try (Connection c = cluster.superuser(DATABASE);
        PreparedStatement st =
            c.prepareStatement("SELECT status::text FROM mail.outbox WHERE id = ?")) {
      st.setLong(1, id);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** Connections the cluster has open for a role, e.g. a page session's. */
  int connectionsOf(String role) throws SQLException {
    try (Connection c = cluster.superuser("postgres");
        PreparedStatement st =
            c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE usename = ?")) {
      st.setString(1, role);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }

  private static DatabaseConfig superuserConfig(ScramCluster cluster) {
    return DatabaseConfig.resolve(
        cluster.url(DATABASE) + "?user=postgres&password=" + cluster.superuserPassword,
        Environment.of(Map.of(), "root"));
  }

  private static long send(Connection c, String to, String subject) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement("SELECT mail.send(recipients => ?, subject => ?, body => 'Hello')")) {
      st.setString(1, to);
      st.setString(2, subject);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static String sql(String literal) {
    return literal.replace("'", "''");
  }
}
