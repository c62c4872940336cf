package dev.postroom.testing;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** Finds the PostgreSQL server the tests run on; see {@link TestDatabase}. */
final class TestServer {
  private static String url;

  private TestServer() {}

  static synchronized String jdbcUrl() {
    if (url != null) {
      return url;
    }
    String configured = System.getenv("POSTROOM_TEST_DB");
    if (configured != null && !configured.isBlank()) {
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
      throw new IllegalStateException(
          "Database tests need PostgreSQL 15 or newer. Set POSTROOM_TEST_DB to a JDBC URL of a"
              + " server whose user may create databases, for example"
              + " POSTROOM_TEST_DB='jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres',"
              + " or run a Docker engine so Testcontainers can start one.");
    }
    return url;
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      return false;
    }
  }
}
