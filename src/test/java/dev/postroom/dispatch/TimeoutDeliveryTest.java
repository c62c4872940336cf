package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.postroom.dispatch.MailFixture.Rcpt;
import dev.postroom.smtp.testserver.ScriptedSmtpServer;
import dev.postroom.testing.ManualClock;
import dev.postroom.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code smtp_*_timeout} settings as a dispatcher applies them: a server that stalls at one
 * stage defers the recipient at that stage within the configured limit (every other limit stays at
 * its minutes-long default), and the retry delivers the same message (same Message-ID).
 */
class TimeoutDeliveryTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final Pattern MESSAGE_ID = Pattern.compile("(?m)^Message-ID: (<[^>\\s]+>)");

  private final MailFixture mail = new MailFixture(db);
  private ScriptedSmtpServer server;
  private ManualClock clock;

  @BeforeEach
  void setUp() throws Exception {
    mail.reset();
    server = new ScriptedSmtpServer();
    mail.relay("main", "relay", server.port(), 1);
    clock = new ManualClock(Instant.now().plusSeconds(1));
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
    server.assertNoViolations();
  }

  private void drain(String name) throws InterruptedException {
    clock.catchUp(Duration.ofSeconds(1));
    try (Dispatcher d = mail.dispatcher(name, clock)) {
      d.runUntilIdle();
    }
  }

  @ParameterizedTest(name = "{0} = 3 seconds ends a stall at {1}")
  @CsvSource({
    "smtp_greeting_timeout, GREETING, greeting, timeout waiting for reply to GREETING",
    "smtp_command_timeout, MAIL, mail, timeout waiting for reply to MAIL",
    "smtp_data_init_timeout, DATA, data, timeout waiting for reply to DATA",
    "smtp_data_done_timeout, DATA_END, data_end, timeout waiting for reply to DATA_END"
  })
  void aStallAtOneStageIsDeferredThereAndTheRetryCarriesTheSameMessageId(
      String setting, String step, String stage, String text) throws Exception {
    mail.configure(setting, "3 seconds");
    server.on(step, step.equals("MAIL") ? server.trickle(2000) : ScriptedSmtpServer.STALL);
    long id = mail.send("ann@example.com", "Timeouts");

    assertTimeoutPreemptively(Duration.ofSeconds(40), () -> drain("d1"));

    Rcpt deferred = mail.recipients(id).get(0);
    assertThat(deferred.status()).isEqualTo("deferred");
    assertThat(deferred.stage()).isEqualTo(stage);
    assertThat(deferred.replyCode()).isEqualTo(451);
    assertThat(deferred.enhancedCode()).isEqualTo("4.4.2");
    assertThat(mail.mail(id).lastReplyText()).startsWith(text);
    assertThat(mail.mail(id).status()).isEqualTo("retrying");

    server.releaseStalls();
    clock.advance(Duration.ofMinutes(2));
    mail.makeDue(Instant.now().minusSeconds(1));
    drain("d2");

    assertThat(mail.recipients(id)).extracting(Rcpt::status).containsExactly("delivered");
    List<String> ids =
        server.sessions().stream()
            .flatMap(s -> s.messages().stream())
            .map(m -> messageId(new String(m, StandardCharsets.UTF_8)))
            .toList();
    assertThat(ids).isNotEmpty();
    assertThat(ids).as("every copy the server received").containsOnly(ids.get(ids.size() - 1));
  }

  private static String messageId(String message) {
    Matcher m = MESSAGE_ID.matcher(message);
    assertThat(m.find()).as("a Message-ID header in %s", message).isTrue();
    return m.group(1);
  }
}
