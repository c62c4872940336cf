package dev.postroom.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Interoperability with an SMTP server we did not write: GreenMail over implicit TLS (its own
 * self-signed certificate, so verification is off here), with AUTH, and the message read back.
 */
class GreenMailInteropTest {
  @RegisterExtension
  static final GreenMailExtension greenMail =
      new GreenMailExtension(ServerSetupTest.SMTPS.dynamicPort())
          .withConfiguration(
              GreenMailConfiguration.aConfig().withUser("sender@example.com", "sender", "pa55"))
          .withPerMethodLifecycle(true);

  private SmtpEndpoint endpoint() {
    var setup = greenMail.getSmtps().getServerSetup();
    return new SmtpEndpoint(setup.getBindAddress(), setup.getPort(), TlsMode.IMPLICIT);
  }

  private SmtpSettings settings(String password) {
    return SmtpSettings.defaults("client.example")
        .withTimeouts(Timeouts.uniform(Duration.ofSeconds(10)))
        .withTlsVerify(false)
        .withCredentials(new Credentials("sender", password, null));
  }

  @Test
  void aMessageSentOverImplicitTlsWithAuthArrivesIntact() throws Exception {
    String body =
        "From: sender@example.com\r\nTo: a@example.org\r\nSubject: interop\r\n\r\n"
            + "first line\r\n.leading dot\r\n.\r\nlast line\r\n";
    TransactionResult result;
    try (SmtpConnection c = SmtpConnection.open(endpoint(), settings("pa55"))) {
      assertThat(c.tlsProtocol()).isPresent();
      result =
          c.send(
              new Envelope("sender@example.com", List.of("a@example.org", "b@example.org")),
              MessageContent.of(body.getBytes(StandardCharsets.US_ASCII)));
      assertThat(c.noop().code()).isEqualTo(250);
    }
    assertThat(result.allDelivered()).isTrue();
    assertThat(greenMail.waitForIncomingEmail(5000, 2)).isTrue();
    MimeMessage received = greenMail.getReceivedMessagesForDomain("example.org")[0];
    assertThat(received.getSubject()).isEqualTo("interop");
    assertThat(GreenMailUtil.getBody(received))
        .isEqualTo("first line\r\n.leading dot\r\n.\r\nlast line"); // GreenMail drops the last CRLF
  }

  @Test
  void aWrongPasswordIsATransientAuthFailure() {
    assertThatThrownBy(() -> SmtpConnection.open(endpoint(), settings("wrong")))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.AUTH);
              assertThat(e.isTransient()).isTrue();
            });
    assertThat(greenMail.getReceivedMessages()).isEmpty();
  }
}
