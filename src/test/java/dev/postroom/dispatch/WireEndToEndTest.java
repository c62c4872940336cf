package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.cli.demo.CaptureSmtpServer;
import dev.postroom.smtp.testserver.TestCertificate;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the outbox row says reaches the wire through a dispatcher running as mail_dispatcher: a mail
 * sent by a mail_sender login, delivered to the strict capture server, read back as bytes.
 */
class WireEndToEndTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private ManualClock clock;

  @BeforeEach
  void setUp() {
    mail.reset();
    clock = new ManualClock(Instant.now().plusSeconds(1));
  }

  private void account(String tls, String host, int port, String extra) {
    mail.jdbi.useHandle(h -> {
      h.createQuery(
              "SELECT mail.add_account(name => 'acct', host => :host, port => :port, tls => :tls,"
                  + " from_address => 'app@postroom.test', display_name => 'Postroom App'"
                  + extra
                  + ")")
          .bind("host", host)
          .bind("port", port)
          .bind("tls", tls)
          .bind("pem", TestCertificate.get().pem())
          .mapTo(Integer.class)
          .one();
      h.createQuery("SELECT mail.add_profile('main', is_default => true)")
          .mapTo(Integer.class)
          .one();
      h.createQuery("SELECT mail.add_profile_account('main', 'acct', 1)").mapTo(String.class).one();
    });
  }

  private long sendAsSender(String sql) {
    return db.jdbiAs("mail_sender").withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  private void drain() throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher("wire", clock)) {
      d.runUntilIdle();
    }
  }

  private static String header(String message, String name) {
    String head = message.substring(0, message.indexOf("\r\n\r\n") + 2);
    return head.lines()
        .filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
        .findFirst()
        .orElse(null);
  }

  @Test
  void fromFallbackDisplayNameReplyToCcAndExtraHeadersReachTheWireAndBccDoesNot() throws Exception {
    try (RecordingSmtpServer smtp = RecordingSmtpServer.start()) {
      account("none", "127.0.0.1", smtp.port(), "");
      long id =
          sendAsSender(
              "SELECT mail.send(recipients => 'to@example.com', subject => 'Wire',"
                  + " body => 'Hello', copy_recipients => 'cc@example.com',"
                  + " blind_copy_recipients => 'hidden@example.com',"
                  + " reply_to => 'answers@example.com',"
                  + " headers => '{\"X-Campaign\": \"spring\"}')");
      drain();

      assertThat(mail.mail(id).status()).isEqualTo("sent");
      assertThat(smtp.captured()).hasSize(1);
      CaptureSmtpServer.Captured m = smtp.captured().get(0);
      assertThat(m.reversePath())
          .as("envelope sender from the account")
          .isEqualTo("app@postroom.test");
      assertThat(m.forwardPaths())
          .containsExactlyInAnyOrder("to@example.com", "cc@example.com", "hidden@example.com");
      String data = m.content();
      assertThat(header(data, "From")).contains("Postroom App").contains("<app@postroom.test>");
      assertThat(header(data, "To")).contains("to@example.com");
      assertThat(header(data, "Cc")).contains("cc@example.com");
      assertThat(header(data, "Reply-To")).contains("answers@example.com");
      assertThat(header(data, "X-Campaign")).isEqualTo("X-Campaign: spring");
      assertThat(header(data, "Bcc")).as("no Bcc header on the wire").isNull();
      assertThat(data).doesNotContain("hidden@example.com");
    }
  }

  @Test
  void starttlsRequiredWithAuthDeliversOverTlsAsTheAccountsUser() throws Exception {
    try (RecordingSmtpServer smtp =
        RecordingSmtpServer.start(
            RecordingSmtpServer.options()
                .startTls(TestCertificate.get().serverContext())
                .credentials("ann", "s3cret"))) {
      account(
          "starttls_required",
          "127.0.0.1",
          smtp.port(),
          ", tls_ca_pem => :pem, username => 'ann', password => 's3cret'");
      long id = sendAsSender("SELECT mail.send(recipients => 'to@example.com', subject => 'TLS')");
      drain();

      assertThat(mail.mail(id).status()).isEqualTo("sent");
      assertThat(smtp.captured())
          .singleElement()
          .satisfies(m -> {
            assertThat(m.tls()).as("delivered after STARTTLS").isTrue();
            assertThat(m.user()).isEqualTo("ann");
          });
    }
  }

  @Test
  void implicitTlsDeliversFromTheFirstByte() throws Exception {
    try (RecordingSmtpServer smtp =
        RecordingSmtpServer.start(
            RecordingSmtpServer.options().implicitTls(TestCertificate.get().serverContext()))) {
      account("implicit", "127.0.0.1", smtp.port(), ", tls_ca_pem => :pem");
      long id = sendAsSender("SELECT mail.send(recipients => 'to@example.com', subject => 'TLS')");
      drain();

      assertThat(mail.mail(id).status()).isEqualTo("sent");
      assertThat(smtp.captured()).singleElement().satisfies(m -> assertThat(m.tls()).isTrue());
    }
  }

  @Test
  void aCertificateForAnotherNameIsRefusedAndNothingIsSent() throws Exception {
    // The test certificate names 127.0.0.1 and localhost; this server answers on 127.0.0.2.
    try (RecordingSmtpServer smtp =
        RecordingSmtpServer.start(
            RecordingSmtpServer.options()
                .listen(InetAddress.getByName("127.0.0.2"), 0)
                .startTls(TestCertificate.get().serverContext()))) {
      account("starttls_required", "127.0.0.2", smtp.port(), ", tls_ca_pem => :pem");
      long id = sendAsSender("SELECT mail.send(recipients => 'to@example.com', subject => 'TLS')");
      drain();

      assertThat(mail.mail(id).status()).isNotEqualTo("sent");
      assertThat(smtp.captured()).isEmpty();
      List<MailFixture.Rcpt> recipients = mail.recipients(id);
      assertThat(recipients).hasSize(1);
      assertThat(recipients.get(0).status()).isNotEqualTo("delivered");
      assertThat(mail.mail(id).lastReplyText()).isNotBlank();
    }
  }
}
