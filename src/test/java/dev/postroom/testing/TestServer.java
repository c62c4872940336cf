package dev.postroom.testing;

import dev.postroom.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * Finds the PostgreSQL server the tests run on; see {@link TestDatabase}. {@code POSTROOM_TEST_DB}
 * names one (a JDBC URL, or {@code embedded}); unset, a Testcontainers PostgreSQL where a Docker
 * engine runs, else the embedded PostgreSQL, started once per test JVM in a temporary directory
 * that is removed when the JVM exits.
 */
final class TestServer {
  static final String EMBEDDED = "embedded";
  private static String url;

  private TestServer() {}

  static synchronized String jdbcUrl() {
    if (url != null) {
      return url;
    }
    String configured = System.getenv("POSTROOM_TEST_DB");
    if (EMBEDDED.equalsIgnoreCase(configured == null ? "" : configured.strip())) {
      url = embedded();
    } else if (configured != null && !configured.isBlank()) {
      url = configured;
    } else if (dockerAvailable()) {
      PostgreSQLContainer container = new PostgreSQLContainer("postgres:15-alpine");
      container.start();
      url =
          container.getJdbcUrl()
              + "&user="
              + container.getUsername()
              + "&password="
              + container.getPassword();
    } else {
      System.err.println(
          "POSTROOM_TEST_DB is unset and no Docker engine runs: the database tests use an embedded"
              + " PostgreSQL. Set POSTROOM_TEST_DB to a JDBC URL to use a server of your own.");
      url = embedded();
    }
    return url;
  }

  private static String embedded() {
    Path directory;
    try {
      directory = Files.createTempDirectory("postroom-test-pg");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EmbeddedPostgres server = EmbeddedPostgres.start(directory);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  deleteTree(directory);
                },
                "embedded-postgres-stop"));
    return server.jdbcUrl("postgres");
  }

  private static void deleteTree(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not remove " + directory + ": " + e.getMessage());
    }
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      return false;
    }
  }
}
