package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.cli.demo.CaptureSmtpServer;
import dev.postroom.smtp.testserver.TestCertificate;
import dev.postroom.testing.TestDatabase;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AccountTestCommandTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private static CaptureSmtpServer plain;

  /** Implicit TLS with AUTH for ann on a free port (a fixed port collides with parallel runs). */
  private static CaptureSmtpServer smtps;

  @BeforeAll
  static void accounts() throws Exception {
    plain = CaptureSmtpServer.start(Map.of());
    smtps =
        CaptureSmtpServer.start(
            CaptureSmtpServer.options()
                .implicitTls(TestCertificate.get().serverContext())
                .credentials("ann", "s3cret"));
    db.jdbi()
        .useHandle(h -> {
          h.execute(
              "SELECT mail.add_account(name => 'plain', host => ?, port => ?, tls => 'none',"
                  + " from_address => 'app@example.com')",
              plain.host(),
              plain.port());
          h.execute("SELECT mail.add_profile(name => 'main', is_default => true)");
          h.execute("SELECT mail.add_profile_account('main', 'plain', 1)");
          h.execute(
              "SELECT mail.add_account(name => 'secure', host => '127.0.0.1', port => ?,"
                  + " tls => 'implicit', tls_verify => false, username => 'ann',"
                  + " password => 's3cret', from_address => 'ann@example.com')",
              smtps.port());
          h.execute(
              "SELECT mail.add_account(name => 'wrong', host => '127.0.0.1', port => ?,"
                  + " tls => 'implicit', tls_verify => false, username => 'ann',"
                  + " password => 'guess', from_address => 'ann@example.com')",
              smtps.port());
        });
  }

  @AfterAll
  static void stop() {
    plain.close();
    smtps.close();
  }

  @Test
  void aPlaintextAccountReportsItsCapabilities() {
    Cli.Result result = Cli.run("account", "test", "plain", "--db", db.url());

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("connected")
        .contains("PIPELINING")
        .contains("ENHANCEDSTATUSCODES")
        .contains("none (plaintext)")
        .contains("AUTH       not configured");
  }

  @Test
  void anImplicitTlsAccountReportsTheProtocolCertificateAndAuth() {
    Cli.Result result = Cli.run("account", "test", "secure", "--db", db.url());

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out())
        .containsPattern("TLS +TLSv1\\.[23], certificate .*CN=")
        .contains("accepted for ann")
        .doesNotContain("s3cret");
  }

  @Test
  void aRefusedLoginIsAnOperationalFailureNamingTheStep() {
    Cli.Result result = Cli.run("account", "test", "wrong", "--db", db.url());

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err())
        .startsWith("postroom: account wrong: auth failed")
        .doesNotContain("guess");
  }

  @Test
  void sendToEnqueuesATestMailThroughTheAccountsProfile() {
    Cli.Result result =
        Cli.run("account", "test", "plain", "--send-to", "ops@example.com", "--db", db.url());

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out()).containsPattern("Test mail \\d+ enqueued through profile main");
    assertThat(
            Cli.rows(
                db,
                "SELECT count(*) FROM mail.recipient WHERE address = 'ops@example.com'",
                Integer.class))
        .containsExactly(1);
  }

  @Test
  void anUnknownAccountIsAnOperationalFailure() {
    Cli.Result result = Cli.run("account", "test", "nope", "--db", db.url());

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().strip())
        .isEqualTo("postroom: no account named nope (see: postroom account list)");
  }
}
