package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.endpoint;
import static dev.postroom.smtp.Smtp.hello;
import static dev.postroom.smtp.Smtp.open;
import static dev.postroom.smtp.Smtp.settings;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import dev.postroom.smtp.testserver.TestCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Greeting, EHLO/HELO, capabilities, STARTTLS, implicit TLS and certificate checks. */
class HandshakeTest {
  private ScriptedSmtpServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedSmtpServer();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    server.assertNoViolations();
  }

  private static SmtpSettings trusting() {
    return settings().withTrustedCaPem(TestCertificate.get().pem());
  }

  @Test
  void aMultiLineGreetingIsReadWhole() {
    server.on("GREETING", "220-mx.example ESMTP\r\n220-no spam please\r\n220 ready");
    try (SmtpConnection c = open(server)) {
      assertThat(c.noop().code()).isEqualTo(250);
      assertThat(server.session().commands()).containsExactly("EHLO client.example", "NOOP");
    }
  }

  @Test
  void a421ToEhloEndsTheSessionWithoutTryingHelo() {
    server.on("EHLO", "421 4.3.2 Shutting down");
    assertThatThrownBy(() -> open(server))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.isTransient()).isTrue();
              assertThat(e.reply().code()).isEqualTo(421);
            });
    assertThat(server.session().commands()).doesNotContain("HELO client.example");
  }

  @Test
  void aRefusedHeloAfterARefusedEhloIsAPermanentFailure() {
    server.on("EHLO", "502 5.5.2 no");
    server.on("HELO", "550 5.7.1 go away");
    assertThatThrownBy(() -> open(server))
        .isInstanceOfSatisfying(SmtpException.class, e -> assertThat(e.isTransient()).isFalse());
  }

  @Test
  void capabilitiesAreReadCaseInsensitively() {
    server.advertise("pipelining", "Size 2000", "8bitmime", "auth=login", "Auth plain LOGIN");
    try (SmtpConnection c = open(server)) {
      Capabilities caps = c.capabilities();
      assertThat(caps.pipelining()).isTrue();
      assertThat(caps.eightBitMime()).isTrue();
      assertThat(caps.maxSize()).isEqualTo(2000);
      assertThat(caps.authMechanisms()).containsExactlyInAnyOrder("PLAIN", "LOGIN");
    }
  }

  @Test
  void startTlsUpgradesAndSaysEhloAgainWithTheNewCapabilities() {
    server.startTls("").advertise("PIPELINING").advertiseAfterTls("PIPELINING", "SIZE 5000");
    try (SmtpConnection c = SmtpConnection.open(endpoint(server, TlsMode.STARTTLS), trusting())) {
      assertThat(c.tlsProtocol()).isPresent();
      assertThat(c.capabilities().maxSize()).isEqualTo(5000);
      assertThat(c.capabilities().startTls()).isFalse();
      assertThat(c.send(to("a@example.org"), hello()).allDelivered()).isTrue();
    }
    assertThat(server.session().isTls()).isTrue();
    assertThat(server.session().commands())
        .startsWith("EHLO client.example", "STARTTLS", "EHLO client.example");
  }

  @Test
  void plaintextInjectedAfterTheStartTlsReplyIsNeverReadAsAReply() {
    server.startTls("250-injected\r\n250 PIPELINING\r\n550 5.0.0 injected refusal\r\n");
    try (SmtpConnection c = SmtpConnection.open(endpoint(server, TlsMode.STARTTLS), trusting())) {
      TransactionResult result = c.send(to("a@example.org"), hello());
      assertThat(result.allDelivered()).isTrue();
      assertThat(result.outcomes().get(0).reply().text()).isEqualTo("Ok: queued");
      assertThat(c.noop().text()).isEqualTo("Ok");
    }
  }

  @Test
  void opportunisticStartTlsGoesOnInPlaintextWhenNotOffered() {
    try (SmtpConnection c = SmtpConnection.open(endpoint(server, TlsMode.STARTTLS), settings())) {
      assertThat(c.tlsProtocol()).isEmpty();
      assertThat(c.send(to("a@example.org"), hello()).allDelivered()).isTrue();
    }
  }

  @Test
  void requiredStartTlsWithAServerNotOfferingItSendsNeitherMailNorAuth() throws Exception {
    server.advertise("AUTH PLAIN LOGIN");
    SmtpSettings settings = settings().withCredentials(new Credentials("u", "secret", null));
    assertThatThrownBy(
            () -> SmtpConnection.open(endpoint(server, TlsMode.STARTTLS_REQUIRED), settings))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.POLICY);
              assertThat(e.reply().enhanced()).hasToString("4.7.4");
            });
    assertThat(server.session().awaitEnd(2000)).as("the client closed the session").isTrue();
    String wire = server.session().received();
    assertThat(wire).doesNotContain("AUTH").doesNotContain("MAIL");
  }

  @Test
  void requiredStartTlsRefusedByTheServerFailsAsTls() {
    server.startTls("").on("STARTTLS", "454 4.7.0 TLS not available");
    assertThatThrownBy(
            () -> SmtpConnection.open(endpoint(server, TlsMode.STARTTLS_REQUIRED), trusting()))
        .isInstanceOfSatisfying(
            SmtpException.class, e -> assertThat(e.kind()).isEqualTo(SmtpException.Kind.TLS));
    assertThat(server.session().received()).doesNotContain("MAIL");
  }

  @Test
  void aSelfSignedCertificateIsRefusedByDefault() {
    server.startTls("");
    assertThatThrownBy(
            () -> SmtpConnection.open(endpoint(server, TlsMode.STARTTLS_REQUIRED), settings()))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.TLS);
              assertThat(e.stage()).isEqualTo(Stage.STARTTLS);
            });
    assertThat(server.session().received()).doesNotContain("MAIL");
  }

  @Test
  void aSelfSignedCertificateIsAcceptedWhenVerificationIsOff() {
    server.startTls("");
    try (SmtpConnection c =
        SmtpConnection.open(
            endpoint(server, TlsMode.STARTTLS_REQUIRED), settings().withTlsVerify(false))) {
      assertThat(c.tlsProtocol()).isPresent();
    }
  }

  @Test
  void implicitTlsSpeaksTlsFromTheFirstByte() {
    server.implicitTls();
    try (SmtpConnection c = SmtpConnection.open(endpoint(server, TlsMode.IMPLICIT), trusting())) {
      assertThat(c.tlsProtocol()).hasValueSatisfying(p -> assertThat(p).startsWith("TLSv1."));
      assertThat(c.peerCertificateSubject()).hasValue("CN=postroom-test");
      assertThat(c.send(to("a@example.org"), hello()).allDelivered()).isTrue();
    }
    assertThat(server.session().isTls()).isTrue();
  }

  @Test
  void implicitTlsWithAnUntrustedCertificateFailsBeforeAnySmtpByte() {
    server.implicitTls();
    assertThatThrownBy(() -> SmtpConnection.open(endpoint(server, TlsMode.IMPLICIT), settings()))
        .isInstanceOfSatisfying(
            SmtpException.class, e -> assertThat(e.kind()).isEqualTo(SmtpException.Kind.TLS));
  }

  @Test
  void theOldAuthEqualsFormIsReadInAnyCase() {
    server.advertise("Auth=LOGIN PLAIN");
    try (SmtpConnection c = open(server)) {
      assertThat(c.capabilities().authMechanisms()).containsExactlyInAnyOrder("LOGIN", "PLAIN");
    }
  }
}
