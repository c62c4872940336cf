package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.cli.demo.CaptureSmtpServer;
import dev.postroom.testing.TestDatabase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RunCommandTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static CaptureSmtpServer smtp;

  @BeforeAll
  static void relay() throws Exception {
    smtp = CaptureSmtpServer.start(Map.of("gone@example.com", "550 5.1.1 User unknown"));
    db.jdbi()
        .useHandle(h -> {
          h.execute(
              "SELECT mail.add_account(name => 'capture', host => ?, port => ?, tls => 'none',"
                  + " from_address => 'app@example.com')",
              smtp.host(),
              smtp.port());
          h.execute("SELECT mail.add_profile(name => 'main', is_default => true)");
          h.execute("SELECT mail.add_profile_account('main', 'capture', 1)");
        });
  }

  @AfterAll
  static void stop() {
    smtp.close();
  }

  @Test
  void runUntilIdleDeliversWhatIsDueExitsZeroAndSummarises() {
    for (String to : List.of("ann@example.com", "bob@example.org", "gone@example.com")) {
      assertThat(Cli.run("send", "--db", db.url(), "--to", to, "--body", "hello").code()).isZero();
    }

    Cli.Result result =
        Cli.run(
            "run",
            "--db",
            db.url(),
            "--until-idle",
            "--dispatcher-name",
            "cli-test",
            "--log-format",
            "json");

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out()).startsWith("delivered 2, deferred 0, failed 1 in ");
    assertThat(result.err().lines())
        .isNotEmpty()
        .allSatisfy(line -> assertThat(line).startsWith("{").endsWith("}"))
        .anySatisfy(line -> assertThat(line).contains("cli-test").contains("\"level\":\"INFO\""));
    assertThat(smtp.messages()).hasSize(2);
    assertThat(
            Cli.rows(
                db,
                "SELECT address || ':' || status FROM mail.recipient ORDER BY id",
                String.class))
        .containsExactly(
            "ann@example.com:delivered", "bob@example.org:delivered", "gone@example.com:failed");
  }

  @Test
  void badDispatcherSettingsAreUsageErrors() {
    Cli.Result result = Cli.run("run", "--db", db.url(), "--until-idle", "--concurrency", "0");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("concurrency must be 1-10000, was 0");
  }
}
