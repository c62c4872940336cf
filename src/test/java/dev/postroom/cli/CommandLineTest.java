package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.config.Environment;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exit codes and messages that need no database. */
class CommandLineTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "migrate",
        "run",
        "send",
        "status",
        "account",
        "account add",
        "account list",
        "account test",
        "demo"
      })
  void everyCommandHasHelpThatExitsWithZero(String command) {
    String[] args = (command + " --help").strip().split(" ");

    Cli.Result result = Cli.run(args);

    assertThat(result.code()).isZero();
    assertThat(result.out())
        .startsWith("Usage: postroom" + (command.isEmpty() ? "" : " " + command) + " ")
        .contains("--help");
  }

  @Test
  void noCommandIsAUsageError() {
    Cli.Result result = Cli.run();

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("a command is required").contains("Try 'postroom --help'");
  }

  @Test
  void anUnknownOptionIsAUsageErrorWithOneLineAndAHint() {
    Cli.Result result = Cli.run("status", "--colour");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err().lines())
        .containsExactly("postroom: Unknown option: '--colour'", "Try 'postroom status --help'.");
  }

  @Test
  void sendWithoutRecipientsOrBodyIsAUsageError() {
    Cli.Result result = Cli.run("send", "--subject", "Hi");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("Missing required").contains("--to");
  }

  @Test
  void anAttachmentThatDoesNotExistIsAUsageError() {
    Cli.Result result =
        Cli.run("send", "--to", "ann@example.com", "--body", "x", "--attach", "/nonexistent.pdf");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("--attach: cannot read /nonexistent.pdf: no such file");
  }

  @Test
  void aMalformedPortSettingIsAUsageErrorNamingTheVariable() {
    Cli.Result result = Cli.run(Environment.of(Map.of("PGPORT", "fivefour"), "root"), "status");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err().strip())
        .isEqualTo("postroom: PGPORT has a port that is not a number: 'fivefour'");
  }

  @Test
  void anUnreachableServerIsAnOperationalFailureInOneLineWithoutStackTrace() throws IOException {
    int closedPort = closedPort();

    Cli.Result result =
        Cli.run(
            Environment.of(
                Map.of("PGPORT", String.valueOf(closedPort), "PGPASSWORD", "pw"), "root"),
            "status");

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.err())
        .startsWith("postroom: cannot connect to root@127.0.0.1:" + closedPort + "/root")
        .contains("set --db, POSTROOM_DB_URL or PGHOST")
        .doesNotContain("pw");
  }

  @Test
  void verboseAddsTheStackTrace() throws IOException {
    Cli.Result result =
        Cli.run(
            "--verbose", "status", "--db", "jdbc:postgresql://127.0.0.1:" + closedPort() + "/x");

    assertThat(result.code()).isEqualTo(Main.FAILURE);
    assertThat(result.err()).contains("postroom: cannot connect").contains("\tat ");
  }

  @Test
  void globalOptionsWorkBeforeOrAfterTheCommand() throws IOException {
    String db = "jdbc:postgresql://127.0.0.1:" + closedPort() + "/before";

    assertThat(Cli.run("--db", db, "status").err()).contains("/before");
    assertThat(Cli.run("status", "--db", db).err()).contains("/before");
  }

  static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
