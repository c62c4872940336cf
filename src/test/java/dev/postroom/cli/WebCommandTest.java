package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WebCommandTest {
  @Test
  void helpNamesThePortTheBindAddressAndTheSessionTimeout() {
    Cli.Result result = Cli.run("web", "--help");

    assertThat(result.code()).isZero();
    assertThat(result.out())
        .contains("--port=PORT")
        .contains("default: 8080")
        .contains("--bind=ADDRESS")
        .contains("default: 127.0.0.1")
        .contains("--session-timeout=DURATION");
  }

  @Test
  void aPortOutOfRangeIsAUsageErrorNamingIt() {
    Cli.Result result = Cli.run("web", "--port", "70000");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("--port must be 0-65535, was 70000");
  }

  @Test
  void aZeroSessionTimeoutIsAUsageErrorNamingIt() {
    Cli.Result result = Cli.run("web", "--session-timeout", "0s");

    assertThat(result.code()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("--session-timeout must be positive, was PT0S");
  }
}
