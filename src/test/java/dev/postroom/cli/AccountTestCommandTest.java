package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.cli.demo.CaptureSmtpServer;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import dev.postroom.smtp.testserver.TestCertificate;
import dev.postroom.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
  void sendToSendsOneMailDirectlyThroughTheAccountAndPrintsTheEndOfDataReply() throws Exception {
    try (ScriptedSmtpServer server = new ScriptedSmtpServer()) {
      server.on("DATA_END", "250 2.0.0 Ok: queued as 4711");
      addPlainAccount("direct", server);

      Cli.Result result =
          Cli.run("account", "test", "direct", "--send-to", "ops@example.com", "--db", db.url());

      assertThat(result.code()).as(result.err()).isZero();
      assertThat(result.out())
          .contains("C: MAIL FROM:<app@example.com>")
          .contains("C: RCPT TO:<ops@example.com>")
          .contains("S: 354")
          .contains("end of data 250 2.0.0 Ok: queued as 4711")
          .contains("OK: 127.0.0.1 [127.0.0.1] accepted the test mail for ops@example.com");
      List<byte[]> messages = server.session().messages();
      assertThat(messages).hasSize(1);
      String message = new String(messages.get(0), StandardCharsets.UTF_8);
      assertThat(message)
          .contains("From: app@example.com")
          .contains("To: ops@example.com")
          .contains("Subject: Postroom test mail (account direct)");
      assertThat(
              Cli.rows(
                  db,
                  "SELECT count(*) FROM mail.recipient WHERE address = 'ops@example.com'",
                  Integer.class))
          .as("nothing went through the queue")
          .containsExactly(0);
      server.assertNoViolations();
    }
  }

  @Test
  void aRecipientRefusedAtRcptPrintsThe550AndExitsOne() throws Exception {
    try (ScriptedSmtpServer server = new ScriptedSmtpServer()) {
      server.on("RCPT", "550 5.1.1 <nobody@example.com>: Recipient address rejected");
      addPlainAccount("refusing", server);

      Cli.Result result =
          Cli.run(
              "account", "test", "refusing", "--send-to", "nobody@example.com", "--db", db.url());

      assertThat(result.code()).isEqualTo(Main.FAILURE);
      assertThat(result.out())
          .contains("S: 550 5.1.1 <nobody@example.com>: Recipient address rejected")
          .contains("RCPT       550 5.1.1 <nobody@example.com>: Recipient address rejected");
      assertThat(result.err())
          .contains(
              "the test mail to nobody@example.com was refused (permanent failure) at RCPT: 550"
                  + " 5.1.1");
      assertThat(server.session().messages()).isEmpty();
      server.assertNoViolations();
    }
  }

  @Test
  void aFailureKeepsTheStepsThatSucceededInTheOutput() throws Exception {
    try (ScriptedSmtpServer server = new ScriptedSmtpServer()) {
      server.on("DATA_END", "451 4.3.0 try later");
      addPlainAccount("later", server);

      Cli.Result result =
          Cli.run("account", "test", "later", "--send-to", "ops@example.com", "--db", db.url());

      assertThat(result.code()).isEqualTo(Main.FAILURE);
      assertThat(result.out())
          .contains("S: 220 ")
          .contains("C: EHLO ")
          .contains("OK: the account connects.")
          .contains("end of data 451 4.3.0 try later");
      assertThat(result.err()).contains("was deferred (temporary failure) at end of data: 451");
      server.assertNoViolations();
    }
  }

  @Test
  void aCertificateItCannotVerifySaysWhatToDo() {
    db.jdbi()
        .useHandle(h ->
            h.execute(
                "SELECT mail.add_account(name => 'selfsigned', host => '127.0.0.1', port => ?,"
                    + " tls => 'implicit', username => 'ann', password => 's3cret',"
                    + " from_address => 'ann@example.com')",
                smtps.port()));

    Cli.Result result = Cli.run("account", "test", "selfsigned", "--db", db.url());

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err())
        .contains("4.7.5")
        .contains("tls_ca_pem =>")
        .contains("tls_verify => false")
        .doesNotContain("s3cret");
  }

  private static void addPlainAccount(String name, ScriptedSmtpServer server) {
    db.jdbi()
        .useHandle(h ->
            h.execute(
                "SELECT mail.add_account(name => ?, host => '127.0.0.1', port => ?, tls => 'none',"
                    + " from_address => 'app@example.com')",
                name,
                server.port()));
  }

  @Test
  void anUnknownAccountIsAnOperationalFailure() {
    Cli.Result result = Cli.run("account", "test", "nope", "--db", db.url());

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().strip())
        .isEqualTo("postroom: no account named nope (see: postroom account list)");
  }
}
