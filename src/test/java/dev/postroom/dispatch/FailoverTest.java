package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.cli.Main;
import dev.postroom.outbox.Schema;
import dev.postroom.testing.PgCluster;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL failover under running dispatchers, as on an HA cluster: a primary and a streaming
 * replica in clusters of the test's own, {@code postroom run} processes with a two-host URL ({@code
 * targetServerType=primary}), the primary stopped hard in the middle of a drain and the replica
 * promoted. Skipped where the server binaries are not on the machine.
 */
class FailoverTest {
  private static final int CONCURRENCY = 16;

  @TempDir Path tmp;
  private final List<Process> dispatchers = new ArrayList<>();
  private final List<PgCluster> clusters = new ArrayList<>();
  private RecordingSmtpServer smtp;

  /** What one failover cost, reported by the test. */
  record Figures(int mails, int duplicates, double resumedSeconds, double outageSeconds) {}

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue(PgCluster.unavailable().isEmpty(), () -> PgCluster.unavailable().orElse(""));
    smtp = RecordingSmtpServer.start();
    smtp.endOfDataDelay(Duration.ofMillis(5));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : dispatchers) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    for (PgCluster c : clusters) {
      c.close();
    }
    if (smtp != null) {
      smtp.close();
    }
  }

  @Test
  void withSynchronousReplicationEveryRecipientIsDeliveredAndDuplicatesStayWithinWhatWasInFlight()
      throws Exception {
    Figures figures = failover(true, 1500);

    assertThat(figures.duplicates())
        .as("sent twice: at most the mails the two dispatchers had in flight")
        .isBetween(0, 2 * CONCURRENCY);
    assertThat(figures.resumedSeconds()).as("delivery resumed after the promotion").isLessThan(30);
  }

  @Test
  void withAsynchronousReplicationTheLostResultsAreSentAgainAndNothingIsLost() throws Exception {
    Figures figures = failover(false, 1000);

    // Results the primary committed but had not yet shipped are lost with it; their mails are
    // claimed again on the new primary and sent again. That is the cost of asynchronous commit.
    assertThat(figures.duplicates()).isBetween(0, figures.mails());
    assertThat(figures.resumedSeconds()).isLessThan(30);
  }

  private static void phase(String what) {
    System.out.println("FAILOVER " + java.time.LocalTime.now() + " " + what);
  }

  private Figures failover(boolean synchronous, int mails) throws Exception {
    phase("start");
    PgCluster primary = cluster(PgCluster.initPrimary(tmp, "primary", List.of()));
    primary.start();
    primary.psql("postgres", "CREATE DATABASE ha");
    prepare(primary.jdbcUrl("ha"), mails);
    if (synchronous) {
      // Before the base backup, as on a cluster that always ran synchronously: the replica
      // inherits the setting, which must be reset when it is promoted.
      primary.psql("postgres", "ALTER SYSTEM SET synchronous_standby_names = 'replica'");
      primary.psql("postgres", "SELECT pg_reload_conf()");
    }
    PgCluster replica = cluster(PgCluster.replicaOf(primary, tmp, "replica"));
    replica.start();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                primary.psql(
                    "postgres",
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                        + (synchronous ? " AND sync_state = 'sync'" : "")),
            "1"::equals);
    String url =
        "jdbc:postgresql://127.0.0.1:"
            + primary.port()
            + ",127.0.0.1:"
            + replica.port()
            + "/ha?user=postgres&targetServerType=primary";

    phase("clusters ready");
    dispatchers.add(dispatcher(url, "ha-one"));
    dispatchers.add(dispatcher(url, "ha-two"));
    await().atMost(Duration.ofSeconds(90)).until(() -> received() >= mails / 4);
    phase("stopping the primary");
    primary.stopImmediately();
    long stoppedAt = System.nanoTime();

    // While no server is the primary: a one-shot drain fails fast, a long-running dispatcher
    // started now waits for the primary instead of exiting.
    CliRun drain = cli(url, "run", "--until-idle");
    assertThat(drain.exitCode()).as(drain.output()).isEqualTo(1);
    Process late = dispatcher(url, "ha-late");
    dispatchers.add(late);
    Path lateLog = Path.of("target/failover-ha-late.log");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> Files.readString(lateLog).contains("waiting for PostgreSQL"));
    assertThat(late.isAlive()).as("a dispatcher started without a primary keeps waiting").isTrue();

    phase("promoting");
    replica.promote();
    // The replica took the primary's synchronous_standby_names; with no standby left, every
    // commit would wait for ever. A failover manager resets it on promotion, and so does this.
    replica.psql("postgres", "ALTER SYSTEM RESET synchronous_standby_names");
    replica.psql("postgres", "SELECT pg_reload_conf()");
    long promotedAt = System.nanoTime();
    String newPrimary = replica.jdbcUrl("ha");
    long recordedAtPromotion = delivered(newPrimary);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> delivered(newPrimary) > recordedAtPromotion);
    double resumed = (System.nanoTime() - promotedAt) / 1e9;
    phase("resumed");
    double outage = (System.nanoTime() - stoppedAt) / 1e9;

    await().atMost(Duration.ofSeconds(120)).until(() -> delivered(newPrimary) == mails);
    phase("drained");
    assertThat(count(newPrimary, "SELECT count(*) FROM mail.outbox WHERE status <> 'sent'"))
        .as("every mail sent, none left sending")
        .isZero();
    assertThat(smtp.deliveries()).as("every recipient received the mail").hasSize(mails);
    assertThat(late.isAlive()).as("the late dispatcher runs on after the failover").isTrue();
    assertThat(Files.readString(lateLog)).contains("reachable after");

    CliRun status = cli(url, "status");
    assertThat(status.exitCode()).as("postroom status against the new primary").isZero();
    assertThat(status.output()).contains("sent");
    assertThat(cli(url, "status", "--read-replica").exitCode()).isZero();

    int duplicates = smtp.deliveries().values().stream().mapToInt(AtomicInteger::get).sum() - mails;
    Figures figures = new Figures(mails, duplicates, resumed, outage);
    String line =
        (synchronous ? "synchronous" : "asynchronous")
            + " replication: "
            + figures
            + System.lineSeparator();
    System.out.print("FAILOVER " + line);
    Files.writeString(
        Path.of("target", "failover-figures.txt"),
        line,
        StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    return figures;
  }

  private PgCluster cluster(PgCluster c) {
    clusters.add(c);
    return c;
  }

  private void prepare(String url, int mails) throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(2);
    try (HikariDataSource ds = new HikariDataSource(config)) {
      Schema.migrate(ds);
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      st.execute(
          "SELECT mail.add_account(name => 'relay', host => '127.0.0.1', port => "
              + smtp.port()
              + ", tls => 'none', from_address => 'app@postroom.test')");
      st.execute("SELECT mail.add_profile('main', is_default => true)");
      st.execute("SELECT mail.add_profile_account('main', 'relay', 1)");
      st.execute("SELECT mail.configure('lease_duration', '5 seconds')");
      st.execute(
          "INSERT INTO mail.outbox (recipients, subject, body)"
              + " SELECT 'ha' || n || '@example.com', 'Failover ' || n, 'Body'"
              + " FROM generate_series(1, "
              + mails
              + ") AS n");
    }
  }

  private int received() {
    return smtp.deliveries().size();
  }

  private static long delivered(String url) throws SQLException {
    return count(url, "SELECT count(*) FROM mail.recipient WHERE status = 'delivered'");
  }

  private static long count(String url, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<String> java() {
    return List.of(
        ProcessHandle.current().info().command().orElse("java"),
        "-cp",
        System.getProperty("java.class.path"),
        Main.class.getName());
  }

  private static Process dispatcher(String url, String name) throws Exception {
    List<String> command = new ArrayList<>(java());
    command.addAll(
        List.of(
            "run",
            "--db",
            url,
            "--dispatcher-name",
            name,
            "--concurrency",
            String.valueOf(CONCURRENCY),
            "--max-database-wait",
            "2s"));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(new File("target/failover-" + name + ".log"))
        .start();
  }

  private record CliRun(int exitCode, String output) {}

  private static CliRun cli(String url, String... args) throws Exception {
    List<String> command = new ArrayList<>(java());
    command.addAll(List.of(args));
    command.addAll(List.of("--db", url));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new CliRun(p.exitValue(), output);
  }
}
