package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.postroom.dispatch.MailFixture.Rcpt;
import dev.postroom.mx.FakeDnsServer;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.io.IOException;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Direct delivery to the recipients' MX hosts, with DNS from a fake server (issue 6). */
class MxDeliveryTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MailFixture mail = new MailFixture(db);
  private FakeDnsServer dns;
  private RecordingSmtpServer refusing;
  private RecordingSmtpServer accepting;

  @BeforeEach
  void setUp() throws IOException {
    mail.reset();
    dns = FakeDnsServer.start();
    refusing = RecordingSmtpServer.start("127.0.0.2", 0);
    refusing.refuse(true);
    accepting = RecordingSmtpServer.start("127.0.0.3", refusing.port());
    mail.configure("dns_servers", "127.0.0.1:" + dns.port());
    mail.configure("mx_port", Integer.toString(refusing.port()));
    mail.jdbi.useHandle(h -> {
      h.execute(
          "SELECT mail.add_account(name => 'direct', delivery => 'mx', tls => 'starttls',"
              + " from_address => 'app@postroom.test', helo_name => 'postroom.test')");
      h.execute("SELECT mail.add_profile('direct', is_default => true)");
      h.execute("SELECT mail.add_profile_account('direct', 'direct', 1)");
    });
    dns.a("mx-down.example.test", "127.0.0.2").a("mx-up.example.test", "127.0.0.3");
  }

  @AfterEach
  void tearDown() throws IOException {
    dns.close();
    refusing.close();
    accepting.close();
  }

  private void drain() throws InterruptedException {
    try (Dispatcher d = mail.dispatcher("mx", new ManualClock(Instant.now().plusSeconds(1)))) {
      d.runUntilIdle();
    }
  }

  @Test
  void eachDomainGoesToItsOwnMxInItsOwnTransaction() throws Exception {
    dns.mx("example.test", 10, "mx-up.example.test").mx("other.test", 5, "mx-up.example.test");
    long id = mail.send("ann@example.test; bob@other.test", "Direct");

    drain();

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode)
        .containsOnly(tuple("delivered", 250));
    assertThat(mail.recipients(id).get(0).remoteHost()).contains("127.0.0.3");
    assertThat(accepting.received()).hasSize(2);
  }

  @Test
  void theNextMxIsTriedWhenTheFirstRefuses() throws Exception {
    // a 554 greeting, not 421: a throttling 421 pauses the whole destination (issue 16)
    refusing.refuseWith("554 5.3.2 this host takes no mail now");
    dns.mx("example.test", 10, "mx-down.example.test").mx("example.test", 20, "mx-up.example.test");
    long id = mail.send("ann@example.test", "Backup MX");

    drain();

    assertThat(mail.recipients(id)).extracting(Rcpt::status).containsExactly("delivered");
    assertThat(refusing.connections()).isPositive();
    assertThat(accepting.deliveriesTo("ann@example.test")).isEqualTo(1);
  }

  @Test
  void aNullMxFailsAtOnceWithoutAConnection() throws Exception {
    dns.nullMx("nomail.test");
    long id = mail.send("ann@nomail.test", "Null MX");

    drain();

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
        .containsExactly(tuple("failed", 556, "5.1.10"));
    assertThat(refusing.connections() + accepting.connections()).isZero();
    assertThat(mail.mail(id).status()).isEqualTo("failed");
  }

  @Test
  void aDomainThatDoesNotExistFailsAndADnsFailureDefers() throws Exception {
    dns.nxdomain("gone.test").servfail("broken.test");
    long gone = mail.send("ann@gone.test", "NXDOMAIN");
    long broken = mail.send("bob@broken.test", "SERVFAIL");

    drain();

    assertThat(mail.recipients(gone))
        .extracting(Rcpt::status, Rcpt::enhancedCode)
        .containsExactly(tuple("failed", "5.1.2"));
    assertThat(mail.recipients(broken))
        .extracting(Rcpt::status, Rcpt::enhancedCode)
        .containsExactly(tuple("deferred", "4.4.3"));
    assertThat(mail.mail(broken).status()).isEqualTo("retrying");
  }

  @Test
  void whenEveryMxRefusesTheMailIsDeferred() throws Exception {
    dns.mx("example.test", 10, "mx-down.example.test");
    long id = mail.send("ann@example.test", "All down");

    drain();

    assertThat(mail.recipients(id))
        .extracting(Rcpt::status, Rcpt::replyCode)
        .containsExactly(tuple("deferred", 421));
    assertThat(mail.mail(id).status()).isEqualTo("retrying");
  }

  @Test
  void anAddressLiteralFailsAloneAndTheOtherRecipientIsDeliveredOnce() throws Exception {
    dns.mx("example.test", 10, "mx-up.example.test");
    // mail.send refuses address literals (MA002); a row from before that rule must still end
    long id =
        mail.sendWithLegacyAddress(
            "ann@example.test; x@literal.example.test", "Literal", "x@literal.example.test",
            "x@[127.0.0.1]");

    drain();

    assertThat(mail.recipients(id))
        .extracting(Rcpt::address, Rcpt::status, Rcpt::replyCode, Rcpt::enhancedCode)
        .containsExactly(
            tuple("ann@example.test", "delivered", 250, "2.0.0"),
            tuple("x@[127.0.0.1]", "failed", 550, "5.1.2"));
    assertThat(mail.mail(id).status()).isEqualTo("partially_sent");
    assertThat(accepting.deliveriesTo("ann@example.test")).isEqualTo(1);
  }

  @Test
  void
      withVerifiedTlsTheConnectionGoesToTheAddressDnsGaveAndTheCertificateIsCheckedAgainstTheMxName()
          throws Exception {
    // "localhost" is in the test certificate; DNS says it is 127.0.0.3, the system resolver says
    // 127.0.0.1, where nothing listens on this port: only the address from the MX lookup works.
    try (RecordingSmtpServer tls =
        RecordingSmtpServer.start(
            RecordingSmtpServer.options()
                .listen(java.net.InetAddress.getByName("127.0.0.3"), 0)
                .startTls(dev.postroom.smtp.testserver.TestCertificate.get().serverContext()))) {
      mail.configure("mx_port", Integer.toString(tls.port()));
      mail.jdbi.useHandle(h -> {
        h.execute(
            "SELECT mail.update_account('direct', tls => 'starttls_required', tls_verify => true,"
                + " tls_ca_pem => ?)",
            dev.postroom.smtp.testserver.TestCertificate.get().pem());
      });
      dns.mx("verified.test", 10, "localhost").a("localhost", "127.0.0.3");
      long id = mail.send("ann@verified.test", "Verified MX");

      drain();

      Rcpt rcpt = mail.recipients(id).get(0);
      assertThat(rcpt.status()).as("%s", rcpt).isEqualTo("delivered");
      assertThat(rcpt.remoteHost()).contains("localhost").contains("127.0.0.3");
      assertThat(tls.received()).hasSize(1);
    }
  }
}
