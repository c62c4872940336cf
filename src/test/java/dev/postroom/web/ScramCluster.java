package dev.postroom.web;

import dev.postroom.testing.PgCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL cluster whose logins need a SCRAM-SHA-256 password ({@link
 * PgCluster#initWithPasswords}), started, for the status page's login tests: the machine's own
 * server trusts loopback, where a wrong password would pass.
 */
final class ScramCluster implements AutoCloseable {
  final int port;
  final String superuserPassword;
  private final Path directory;
  private final PgCluster cluster;

  private ScramCluster(Path directory, PgCluster cluster, String superuserPassword) {
    this.directory = directory;
    this.cluster = cluster;
    this.port = cluster.port();
    this.superuserPassword = superuserPassword;
  }

  /** Why no such cluster can be made here, or empty where it can. */
  static java.util.Optional<String> unavailable() {
    return PgCluster.unavailable();
  }

  static ScramCluster start() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("postroom-scram");
    String password = UUID.randomUUID().toString();
    PgCluster cluster = PgCluster.initWithPasswords(dir, "scram", password);
    cluster.start();
    return new ScramCluster(dir, cluster, password);
  }

  /** The JDBC URL of a database of this cluster, without credentials. */
  String url(String database) {
    return cluster.url(database);
  }

  Connection superuser(String database) throws SQLException {
    return DriverManager.getConnection(url(database), "postgres", superuserPassword);
  }

  @Override
  public void close() throws IOException, InterruptedException {
    try {
      cluster.close();
    } finally {
      try (Stream<Path> paths = Files.walk(directory)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
