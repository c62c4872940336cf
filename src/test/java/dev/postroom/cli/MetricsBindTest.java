package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Issue 12, finding 9: the metrics port listens on loopback unless told otherwise. */
class MetricsBindTest {
  @Test
  void metricsBindDefaultsToLoopback() {
    Cli.Result help = Cli.run("run", "--help");
    assertThat(help.out()).contains("--metrics-bind").contains("default: 127.0.0.1");
    assertThat(new RunCommand(new CliContext(System.out, System.err, Cli.CLEAN)).metricsBind)
        .isEqualTo("127.0.0.1");
  }
}
