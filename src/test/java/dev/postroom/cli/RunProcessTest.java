package dev.postroom.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.postroom.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code postroom run} as its own process: metrics and health over HTTP, SIGTERM stops it. */
class RunProcessTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final Pattern METRICS_LINE =
      Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");

  @Test
  void aRunningDispatcherServesMetricsAndHealthAndStopsGracefullyOnSigterm(@TempDir Path dir)
      throws Exception {
    Path stderr = dir.resolve("stderr.log");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "run",
                "--db",
                db.url(),
                "--dispatcher-name",
                "probe",
                "--metrics-port",
                "0",
                "--metrics-bind",
                "127.0.0.1")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderr.toFile())
            .start();
    try (HttpClient http = HttpClient.newHttpClient()) {
      int port =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> metricsPort(Files.readString(stderr)), p -> p > 0);

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> get(http, port, "/health").statusCode() == 200);
      HttpResponse<String> metrics = get(http, port, "/metrics");

      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("postroom_queue_depth{status=\"queued\"}")
          .contains("postroom_queue_oldest_due_age_seconds")
          .contains("postroom_claim_duration_seconds")
          .contains("hikaricp_connections")
          .contains("jvm_memory_used_bytes");

      process.destroy();
      assertThat(process.waitFor(40, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).isEqualTo(143);
      assertThat(Files.readString(stderr))
          .contains("dispatcher probe stopping")
          .doesNotContain("ERROR");
    } finally {
      process.destroyForcibly();
    }
  }

  private static int metricsPort(String log) {
    Matcher m = METRICS_LINE.matcher(log);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
