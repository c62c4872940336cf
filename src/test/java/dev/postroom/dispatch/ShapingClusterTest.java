package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.postroom.mx.FakeDnsServer;
import dev.postroom.testing.TestDatabase;
import java.io.File;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16: limits and throttle pauses that hold for three dispatchers at once, against recording
 * SMTP servers that count concurrent sessions and time every accepted message.
 */
class ShapingClusterTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private final List<Dispatcher> dispatchers = new ArrayList<>();
  private final List<AutoCloseable> servers = new ArrayList<>();
  private RecordingSmtpServer smtp;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    mail.jdbi.useHandle(h -> {
      h.execute("DELETE FROM mail.destination_policy");
      h.execute("DELETE FROM mail.shaping_slot");
      h.execute("DELETE FROM mail.shaping_pause");
      h.execute("DELETE FROM mail.shaping_bucket");
    });
    smtp = server(RecordingSmtpServer.start());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Dispatcher d : dispatchers) {
      d.close();
    }
    for (AutoCloseable s : servers) {
      s.close();
    }
  }

  private <T extends AutoCloseable> T server(T s) {
    servers.add(s);
    return s;
  }

  private void relay(int maxConnections, Integer ratePerMinute) {
    mail.relay("main", "relay", smtp.port(), 1);
    mail.jdbi.useHandle(h ->
        h.createUpdate("UPDATE mail.account SET max_connections = :m, rate_per_minute = :r")
            .bind("m", maxConnections)
            .bind("r", ratePerMinute)
            .execute());
  }

  private void enqueue(int mails, String domain) {
    mail.jdbi.useHandle(h ->
        h.createUpdate(
                "INSERT INTO mail.outbox (recipients, subject, body)"
                    + " SELECT 'user' || n || '@' || :domain, 'Bulk ' || n, 'Body ' || n"
                    + " FROM generate_series(1, :n) AS n")
            .bind("domain", domain)
            .bind("n", mails)
            .execute());
  }

  private void startThree() {
    for (int i = 1; i <= 3; i++) {
      Dispatcher d =
          mail.dispatcher(
              DispatcherConfig.defaults("d" + i).withConcurrency(16).withBatchSize(10),
              Clock.systemUTC());
      dispatchers.add(d);
      d.start();
    }
  }

  private void awaitAllSent(int mails, Duration within) {
    await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> assertThat(mail.statusCounts()).containsExactly(Map.entry("sent", (long) mails)));
  }

  private long count(String sql) {
    return mail.jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  @Test
  void threeDispatchersNeverHoldMoreSessionsToAnAccountThanItsMaxConnections() {
    relay(3, null);
    smtp.endOfDataDelay(Duration.ofMillis(15));
    enqueue(150, "example.com");

    startThree();
    awaitAllSent(150, Duration.ofSeconds(90));

    assertThat(smtp.mostOpenAtOnce()).as("sessions open at once, all dispatchers").isBetween(1, 3);
    assertThat(smtp.deliveries()).hasSize(150);
    assertThat(dispatchers)
        .as("every dispatcher delivered some")
        .allSatisfy(d -> assertThat(d.counts().delivered()).isPositive());
  }

  @Test
  void threeDispatchersTogetherStayWithinTheRatePerMinutePlusTheStatedBurst() {
    int rate = 120;
    relay(8, rate);
    enqueue(40, "example.com");

    startThree();
    awaitAllSent(40, Duration.ofSeconds(90));

    // burst allowed: a twentieth of the rate in the bucket, plus a second's worth of tokens
    // taken in a batch; both within the rate/10 + 2, plus 1 s for clocks and network
    List<Instant> times = new ArrayList<>(smtp.acceptedAt());
    Collections.sort(times);
    int burst = rate / 10 + 2;
    for (int i = 0; i < times.size(); i++) {
      for (int j = i; j < times.size(); j++) {
        double seconds = Duration.between(times.get(i), times.get(j)).toMillis() / 1000.0;
        assertThat(j - i + 1)
            .as("messages accepted within %.1f s", seconds)
            .isLessThanOrEqualTo((int) Math.floor(rate * (seconds + 1) / 60) + burst);
      }
    }
    assertThat(times).hasSize(40);
  }

  @Test
  void aKilledDispatchersSlotsComeBackWithinTheLease() throws Exception {
    mail.configure("lease_duration", "5 seconds");
    relay(2, null);
    smtp.endOfDataDelay(Duration.ofMillis(300));
    enqueue(30, "example.com");
    Process victim =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                DispatcherProcess.class.getName(),
                db.url(),
                "victim",
                "8")
            .redirectErrorStream(true)
            .redirectOutput(new File("target/dispatcher-shaping-victim.log"))
            .start();
    String held =
        "SELECT count(*) FROM mail.shaping_slot WHERE holder LIKE 'victim#%'"
            + " AND lease_expires_at > clock_timestamp()";
    await().atMost(Duration.ofSeconds(60)).until(() -> count(held) == 2);
    victim.destroyForcibly().waitFor();
    Instant killed = Instant.now();

    await().atMost(Duration.ofSeconds(8)).until(() -> count(held) == 0);
    assertThat(Duration.between(killed, Instant.now()))
        .as("the killed dispatcher's slots returned within the 5 s slot lease")
        .isLessThanOrEqualTo(Duration.ofSeconds(6));
    smtp.endOfDataDelay(Duration.ZERO);
    try (Dispatcher survivor =
        mail.dispatcher(DispatcherConfig.defaults("survivor"), Clock.systemUTC())) {
      survivor.start();
      awaitAllSent(30, Duration.ofSeconds(60));
    }
    assertThat(smtp.mostOpenAtOnce()).isLessThanOrEqualTo(2);
  }

  @Test
  void aThrottlingGreetingPausesTheAccountForEveryDispatcherAndNoneConnectsUntilItEnds()
      throws Exception {
    mail.configure("throttle_pause", "4 seconds");
    mail.configure("retry_schedule", "1 second");
    relay(2, null);
    smtp.refuseWith("421 4.7.0 too many connections, try again later");
    enqueue(40, "example.com");

    startThree();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() ->
            count("SELECT count(*) FROM mail.destination_status WHERE paused_until IS NOT NULL")
                == 1);
    Instant pausedAt = Instant.now();
    int before = smtp.connections();
    Thread.sleep(2_500);
    int during = smtp.connections() - before;
    smtp.refuseWith(null);

    assertThat(before).as("connections refused before the pause was seen").isBetween(1, 2);
    assertThat(during).as("new connections while paused").isZero();
    awaitAllSent(40, Duration.ofSeconds(60));
    assertThat(smtp.connectedAt())
        .as("no connection in the pause after the first refusals")
        .noneMatch(
            t -> t.isAfter(pausedAt.plusMillis(200)) && t.isBefore(pausedAt.plusMillis(2_500)));
    assertThat(count("SELECT count(*) FROM mail.event_log WHERE event = 'throttled'")).isPositive();
    assertThat(count("SELECT count(*) FROM mail.shaping_pause"))
        .as("the success ended it")
        .isZero();
  }

  @Test
  void aDestinationPolicyOfOneConnectionHoldsWhileOtherDomainsUseMore() throws Exception {
    FakeDnsServer dns = server(FakeDnsServer.start());
    RecordingSmtpServer limited = server(RecordingSmtpServer.start("127.0.0.2", 0));
    RecordingSmtpServer free = server(RecordingSmtpServer.start("127.0.0.3", limited.port()));
    limited.endOfDataDelay(Duration.ofMillis(20));
    free.endOfDataDelay(Duration.ofMillis(20));
    mail.configure("dns_servers", "127.0.0.1:" + dns.port());
    mail.configure("mx_port", Integer.toString(limited.port()));
    dns.a("mx.limited.test", "127.0.0.2").a("mx.free.test", "127.0.0.3");
    dns.mx("a.limited.test", 10, "mx.limited.test").mx("b.limited.test", 10, "mx.limited.test");
    dns.mx("free.test", 10, "mx.free.test");
    mail.jdbi.useHandle(h -> {
      h.execute(
          "SELECT mail.add_account(name => 'direct', delivery => 'mx', tls => 'starttls',"
              + " from_address => 'app@postroom.test', helo_name => 'postroom.test',"
              + " max_connections => 8)");
      h.execute("SELECT mail.add_profile('direct', is_default => true)");
      h.execute("SELECT mail.add_profile_account('direct', 'direct', 1)");
      h.execute("SELECT mail.add_destination_policy('*.limited.test', max_connections => 1)");
    });
    enqueue(30, "a.limited.test");
    enqueue(30, "b.limited.test");
    enqueue(60, "free.test");

    startThree();
    awaitAllSent(120, Duration.ofSeconds(90));

    assertThat(limited.mostOpenAtOnce())
        .as("sessions to *.limited.test at once, all dispatchers")
        .isEqualTo(1);
    assertThat(free.mostOpenAtOnce()).as("sessions to free.test at once").isGreaterThan(1);
    assertThat(limited.received()).hasSize(60);
    assertThat(free.received()).hasSize(60);
  }
}
