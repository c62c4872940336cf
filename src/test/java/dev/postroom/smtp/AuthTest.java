package dev.postroom.smtp;

import static dev.postroom.smtp.Smtp.endpoint;
import static dev.postroom.smtp.Smtp.hello;
import static dev.postroom.smtp.Smtp.settings;
import static dev.postroom.smtp.Smtp.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import dev.postroom.smtp.testserver.TestCertificate;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** AUTH PLAIN, LOGIN and XOAUTH2 on the wire, only over TLS unless allowed, never in a trace. */
class AuthTest {
  private static final String SECRET = "s3cret-Pa55";
  private ScriptedSmtpServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedSmtpServer().startTls("").advertise("PIPELINING");
    server.advertiseAfterTls("PIPELINING", "AUTH PLAIN LOGIN XOAUTH2");
    server.credentials("user@example.com", SECRET);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    server.assertNoViolations();
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private SmtpConnection openWith(AuthMechanism mechanism) {
    SmtpSettings s =
        settings()
            .withTrustedCaPem(TestCertificate.get().pem())
            .withCredentials(new Credentials("user@example.com", SECRET, mechanism));
    return SmtpConnection.open(endpoint(server, TlsMode.STARTTLS_REQUIRED), s);
  }

  private List<String> commandsAfterTls() {
    List<String> all = server.sessions().getLast().commands();
    assertThat(all.subList(0, all.indexOf("STARTTLS"))).noneMatch(c -> c.startsWith("AUTH"));
    return all.subList(all.indexOf("STARTTLS") + 1, all.size());
  }

  @Test
  void authPlainSendsOneInitialResponseAfterTls() {
    try (SmtpConnection c = openWith(null)) {
      assertThat(c.send(to("a@example.org"), hello()).allDelivered()).isTrue();
    }
    assertThat(commandsAfterTls())
        .containsSubsequence(
            "EHLO client.example",
            "AUTH PLAIN " + b64("\0user@example.com\0" + SECRET),
            "MAIL FROM:<sender@example.com>");
  }

  @Test
  void authLoginSendsUserAndSecretAsTwoResponses() {
    try (SmtpConnection c = openWith(AuthMechanism.LOGIN)) {
      assertThat(c.isReusable()).isTrue();
    }
    assertThat(commandsAfterTls())
        .containsSubsequence("AUTH LOGIN", b64("user@example.com"), b64(SECRET));
  }

  @Test
  void authXoauth2SendsTheBearerToken() {
    try (SmtpConnection c = openWith(AuthMechanism.XOAUTH2)) {
      assertThat(c.isReusable()).isTrue();
    }
    assertThat(commandsAfterTls())
        .contains(
            "AUTH XOAUTH2 "
                + b64("user=user@example.com\u0001auth=Bearer " + SECRET + "\u0001\u0001"));
  }

  @Test
  void aRefusedXoauth2TokenEndsTheExchangeWithAnEmptyLineAndIsATransientAuthFailure() {
    server.on("AUTH", "334 eyJzdGF0dXMiOiI0MDEifQ==");
    assertThatThrownBy(() -> openWith(AuthMechanism.XOAUTH2))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.AUTH);
              assertThat(e.isTransient()).isTrue();
              assertThat(e.reply().code()).isEqualTo(535);
            });
    assertThat(commandsAfterTls()).contains("");
  }

  @Test
  void aRefusedPasswordIsATransientAuthFailureAndNoMailIsSent() {
    server.on("AUTH", "535 5.7.8 Authentication credentials invalid");
    assertThatThrownBy(() -> openWith(null))
        .isInstanceOfSatisfying(
            SmtpException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SmtpException.Kind.AUTH);
              assertThat(e.isTransient()).isTrue();
            });
    assertThat(server.session().received()).doesNotContain("MAIL FROM");
  }

  @Test
  void aWrongPasswordIsRefusedByTheServerForEveryMechanismAndNoMailIsSent() {
    server.credentials("user@example.com", "another-secret");
    for (AuthMechanism m : AuthMechanism.values()) {
      assertThatThrownBy(() -> openWith(m))
          .as(m.name())
          .isInstanceOfSatisfying(
              SmtpException.class, e -> assertThat(e.kind()).isEqualTo(SmtpException.Kind.AUTH));
    }
    assertThat(server.sessions()).hasSize(AuthMechanism.values().length);
    server.sessions().forEach(x -> assertThat(x.received()).doesNotContain("MAIL FROM"));
  }

  @Test
  void noMechanismInCommonIsAnAuthFailureWithoutAuthBytes() {
    server.advertiseAfterTls("AUTH CRAM-MD5");
    assertThatThrownBy(() -> openWith(null))
        .isInstanceOfSatisfying(
            SmtpException.class, e -> assertThat(e.reply().enhanced()).hasToString("5.7.0"));
    assertThat(server.session().received()).doesNotContain("AUTH");
  }

  @Test
  void authIsNeverSentOverPlaintextUnlessAllowed() {
    try (ScriptedSmtpServer plain =
        new ScriptedSmtpServer().advertise("AUTH PLAIN").credentials("u", SECRET)) {
      SmtpSettings s = settings().withCredentials(new Credentials("u", SECRET, null));
      for (TlsMode mode : List.of(TlsMode.NONE, TlsMode.STARTTLS)) {
        assertThatThrownBy(() -> SmtpConnection.open(endpoint(plain, mode), s))
            .isInstanceOfSatisfying(
                SmtpException.class,
                e -> assertThat(e.kind()).isEqualTo(SmtpException.Kind.POLICY));
      }
      plain.sessions().forEach(x -> assertThat(x.received()).doesNotContain("AUTH"));
      try (SmtpConnection c =
          SmtpConnection.open(endpoint(plain, TlsMode.NONE), s.withAllowAuthWithoutTls(true))) {
        assertThat(c.isReusable()).isTrue();
      }
      assertThat(plain.sessions().getLast().commands())
          .contains("AUTH PLAIN " + b64("\0u\0" + SECRET));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theWireTraceNeverShowsTheSecret() {
    Logger logger = (Logger) LoggerFactory.getLogger("dev.postroom");
    Level before = logger.getLevel();
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.TRACE);
    try {
      for (AuthMechanism m : AuthMechanism.values()) {
        try (SmtpConnection c = openWith(m)) {
          c.send(to("a@example.org"), hello());
        }
      }
    } finally {
      logger.detachAppender(appender);
      logger.setLevel(before);
    }
    List<String> lines = appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).anyMatch(l -> l.contains("C: EHLO client.example"));
    assertThat(lines).anyMatch(l -> l.contains("C: <redacted>"));
    assertThat(lines).anyMatch(l -> l.contains("C: <message content>"));
    List<String> forbidden =
        List.of(
            SECRET,
            b64(SECRET),
            b64("\0user@example.com\0" + SECRET),
            b64("user=user@example.com\u0001auth=Bearer " + SECRET + "\u0001\u0001"),
            "Hello.");
    for (String secret : forbidden) {
      assertThat(lines).noneMatch(l -> l.contains(secret));
    }
  }
}
