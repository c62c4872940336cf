package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Several dispatchers on one database, crashes, stops and database outages. */
class ClusterTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
    mail.jdbi.useHandle(h -> h.execute("UPDATE mail.account SET max_connections = 8"));
  }

  @AfterEach
  void tearDown() throws IOException {
    smtp.close();
  }

  private void enqueue(int mails, String prefix) {
    mail.jdbi.useHandle(h ->
        h.createUpdate(
                "INSERT INTO mail.outbox (recipients, subject, body)"
                    + " SELECT :prefix || n || '@example.com', 'Bulk ' || n, 'Body ' || n"
                    + " FROM generate_series(1, :n) AS n")
            .bind("prefix", prefix)
            .bind("n", mails)
            .execute());
  }

  private long deliveredRecipients() {
    return mail.jdbi.withHandle(h ->
        h.createQuery("SELECT count(*) FROM mail.recipient WHERE status = 'delivered'")
            .mapTo(Long.class)
            .one());
  }

  @Test
  void fourDispatchersDeliverTenThousandMailsEachExactlyOnce() throws Exception {
    enqueue(10_000, "user");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<DispatchCounts>> runs = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      String name = "d" + i;
      runs.add(
          pool.submit(() -> {
            try (Dispatcher d =
                mail.dispatcher(
                    DispatcherConfig.defaults(name).withConcurrency(32).withBatchSize(50),
                    Clock.systemUTC())) {
              d.runUntilIdle();
              return d.counts();
            }
          }));
    }
    long delivered = 0;
    List<Long> perDispatcher = new ArrayList<>();
    for (Future<DispatchCounts> run : runs) {
      DispatchCounts c = run.get();
      delivered += c.delivered();
      perDispatcher.add(c.delivered());
    }
    pool.shutdown();

    assertThat(mail.statusCounts()).containsExactly(Map.entry("sent", 10_000L));
    assertThat(delivered).isEqualTo(10_000);
    assertThat(smtp.deliveries()).hasSize(10_000);
    assertThat(smtp.deliveries().values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    assertThat(perDispatcher)
        .as("every dispatcher took a share")
        .hasSize(4)
        .allSatisfy(n -> assertThat(n).isPositive());
  }

  @Test
  void aDispatcherKilledMidRunLosesNothingAndAnotherFinishesItsWork() throws Exception {
    mail.configure("lease_duration", "5 seconds");
    enqueue(300, "kill");
    smtp.endOfDataDelay(Duration.ofMillis(20));
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                DispatcherProcess.class.getName(),
                db.urlAs("mail_dispatcher"),
                "victim",
                "8")
            .redirectErrorStream(true)
            .redirectOutput(new File("target/dispatcher-victim.log"))
            .start();
    await().atMost(Duration.ofSeconds(60)).until(() -> deliveredRecipients() >= 50);
    child.destroyForcibly().waitFor();
    long beforeKill = deliveredRecipients();
    assertThat(beforeKill).isLessThan(300);

    try (Dispatcher survivor =
        mail.dispatcher(DispatcherConfig.defaults("survivor"), Clock.systemUTC())) {
      survivor.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> assertThat(mail.statusCounts()).containsExactly(Map.entry("sent", 300L)));
    }
    int total = smtp.deliveries().values().stream().mapToInt(AtomicInteger::get).sum();
    assertThat(smtp.deliveries()).hasSize(300);
    assertThat(total - 300).as("duplicates: at most what the victim had in flight").isBetween(0, 8);
    long recovered =
        mail.jdbi.withHandle(h ->
            h.createQuery("SELECT count(*) FROM mail.event_log WHERE event = 'lease_expired'")
                .mapTo(Long.class)
                .one());
    assertThat(recovered).isPositive();
  }

  @Test
  void aGracefulStopFinishesWhatIsInFlightAndGivesBackTheRest() throws Exception {
    enqueue(40, "stop");
    smtp.holdEndOfData();
    Dispatcher d =
        mail.dispatcher(
            DispatcherConfig.defaults("stopping").withConcurrency(4), Clock.systemUTC());
    d.start();
    // Four deliveries in flight, held at the final dot, so the stop cannot race the queue.
    await().atMost(Duration.ofSeconds(20)).until(() -> smtp.heldNow() == 4);
    assertThat(d.isHealthy()).isTrue();
    Thread stopper = Thread.ofVirtual().start(d::close);
    await().atMost(Duration.ofSeconds(10)).until(() -> !d.isHealthy());
    smtp.releaseEndOfData();
    stopper.join(Duration.ofSeconds(30));
    assertThat(stopper.isAlive()).as("the stop returned").isFalse();

    Map<String, Long> counts = mail.statusCounts();
    assertThat(counts).doesNotContainKey("sending");
    assertThat(counts.getOrDefault("sent", 0L)).as("the four in flight finished").isEqualTo(4);
    assertThat(counts.get("queued")).as("the rest given back, not lost").isEqualTo(36);

    try (Dispatcher next = mail.dispatcher(DispatcherConfig.defaults("next"), Clock.systemUTC())) {
      next.runUntilIdle();
    }
    assertThat(mail.statusCounts()).containsExactly(Map.entry("sent", 40L));
    assertThat(smtp.deliveries()).hasSize(40);
    assertThat(smtp.deliveries().values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
  }

  @Test
  void lostDatabaseConnectionsAreReplacedAndNoResultIsLost() throws Exception {
    // A claim whose reply is lost with its connection leaves a mail leased to nobody: the lease
    // must run out for it to be taken back, so keep it short here.
    mail.configure("lease_duration", "5 seconds");
    enqueue(400, "outage");
    smtp.endOfDataDelay(Duration.ofMillis(5));
    String url = db.urlAs("mail_dispatcher") + "&ApplicationName=outage-victim";
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(8);
    try (HikariDataSource pool = new HikariDataSource(config);
        Dispatcher d =
            new Dispatcher(
                pool,
                () -> DriverManager.getConnection(url),
                DispatcherConfig.defaults("survivor").withConcurrency(16),
                new SimpleMeterRegistry(),
                Clock.systemUTC())) {
      d.start();
      for (int i = 0; i < 3; i++) {
        long floor = deliveredRecipients();
        await().atMost(Duration.ofSeconds(30)).until(() -> deliveredRecipients() > floor + 40);
        int killed =
            mail.jdbi.withHandle(h ->
                h.createQuery(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            + " WHERE application_name = 'outage-victim'")
                    .mapTo(Integer.class)
                    .one());
        assertThat(killed).isPositive();
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> assertThat(mail.statusCounts()).containsExactly(Map.entry("sent", 400L)));
      await().atMost(Duration.ofSeconds(10)).until(d::isHealthy);
    }
    assertThat(smtp.deliveries()).hasSize(400);
    assertThat(smtp.deliveries().values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
  }
}
