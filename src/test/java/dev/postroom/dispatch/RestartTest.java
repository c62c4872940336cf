package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.postroom.testing.TestDatabase;
import java.io.File;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL itself restarted in the middle of a drain. Restarting the server under every other
 * client is not something a test does uninvited: it runs only with {@code
 * POSTROOM_TEST_RESTART_CLUSTER=1} (set by {@code .ci/run}) where it may restart the local cluster
 * (Debian's {@code pg_ctlcluster}, as root); elsewhere it is skipped, and {@code ClusterTest} still
 * covers backends killed under the dispatcher and {@code FailoverTest} a server stopped hard.
 */
class RestartTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private RecordingSmtpServer smtp;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    smtp = RecordingSmtpServer.start();
    mail.relay("main", "relay", smtp.port(), 1);
  }

  @AfterEach
  void tearDown() throws IOException {
    smtp.close();
  }

  private static String cluster() {
    File[] versions = new File("/etc/postgresql").listFiles();
    return versions == null || versions.length != 1 ? null : versions[0].getName();
  }

  private static boolean run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  @Test
  void aDispatcherRidesOutAPostgresRestartAndLosesNoResult() throws Exception {
    String version = cluster();
    assumeTrue(
        "1".equals(System.getenv("POSTROOM_TEST_RESTART_CLUSTER"))
            && version != null
            && db.url().contains("127.0.0.1")
            && "root".equals(System.getProperty("user.name"))
            && new File("/usr/bin/pg_ctlcluster").canExecute(),
        "needs POSTROOM_TEST_RESTART_CLUSTER=1 and a local Debian PostgreSQL cluster this user may"
            + " restart");
    mail.configure("lease_duration", "5 seconds");
    mail.jdbi.useHandle(h ->
        h.execute(
            "INSERT INTO mail.outbox (recipients, subject, body)"
                + " SELECT 'restart' || n || '@example.com', 'R' || n, 'Body'"
                + " FROM generate_series(1, 300) AS n"));
    smtp.endOfDataDelay(Duration.ofMillis(10));
    try (Dispatcher d =
        mail.dispatcher(
            DispatcherConfig.defaults("survivor").withConcurrency(8), Clock.systemUTC())) {
      d.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> smtp.deliveries().size() >= 30);
      try {
        assertThat(
                run(
                    "pg_ctlcluster",
                    "--skip-systemctl-redirect",
                    version,
                    "main",
                    "restart",
                    "--",
                    "-m",
                    "fast"))
            .as("the cluster restarted")
            .isTrue();
      } finally {
        for (int i = 0; i < 60 && !run("pg_isready", "-q", "-h", "127.0.0.1"); i++) {
          Thread.sleep(500);
        }
      }
      await()
          .atMost(Duration.ofSeconds(90))
          .untilAsserted(
              () -> assertThat(mail.statusCounts()).containsExactly(Map.entry("sent", 300L)));
    }
    assertThat(smtp.deliveries()).hasSize(300);
    int duplicates = smtp.deliveries().values().stream().mapToInt(n -> n.get() - 1).sum();
    assertThat(duplicates).as("at most what was in flight at the restart").isBetween(0, 8);
  }
}
