package dev.postroom.web;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL cluster whose TCP logins need a SCRAM-SHA-256 password, on a free
 * loopback port in a temporary directory: the machine's own server trusts loopback, where a wrong
 * password would pass. Uses the machine's PostgreSQL binaries; run as user {@code postgres} when
 * the tests run as root, as initdb refuses root.
 */
final class ScramCluster implements AutoCloseable {
  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");

  final Path directory;
  final int port;
  final String superuserPassword = UUID.randomUUID().toString();
  private final boolean root;

  private ScramCluster(Path directory, int port, boolean root) {
    this.directory = directory;
    this.port = port;
    this.root = root;
  }

  static boolean available() {
    return Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("pg_ctl"));
  }

  static ScramCluster start() throws IOException, InterruptedException {
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("postroom-scram");
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    ScramCluster cluster = new ScramCluster(dir, port, root);
    Files.writeString(dir.resolve("pwfile"), cluster.superuserPassword + "\n");
    if (root) {
      cluster.run("chown", "-R", "postgres:postgres", dir.toString());
    }
    cluster.runAsOwner(
        BIN.resolve("initdb").toString(),
        "-D",
        dir.resolve("data").toString(),
        "-U",
        "postgres",
        "--pwfile=" + dir.resolve("pwfile"),
        "--auth-host=scram-sha-256",
        "--auth-local=scram-sha-256",
        "-E",
        "UTF8",
        "--no-sync");
    cluster.runAsOwner(
        BIN.resolve("pg_ctl").toString(),
        "-D",
        dir.resolve("data").toString(),
        "-l",
        dir.resolve("log").toString(),
        "-o",
        "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off",
        "-w",
        "-t",
        "60",
        "start");
    return cluster;
  }

  /** The JDBC URL of a database of this cluster, without credentials. */
  String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  Connection superuser(String database) throws SQLException {
    return DriverManager.getConnection(url(database), "postgres", superuserPassword);
  }

  @Override
  public void close() throws IOException, InterruptedException {
    try {
      runAsOwner(
          BIN.resolve("pg_ctl").toString(),
          "-D",
          directory.resolve("data").toString(),
          "-m",
          "immediate",
          "-w",
          "stop");
    } finally {
      try (Stream<Path> paths = Files.walk(directory)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private void runAsOwner(String... command) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (root) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(List.of(command));
    run(full.toArray(String[]::new));
  }

  private void run(String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(directory.resolve("commands.log").toFile())
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(
          String.join(" ", command)
              + " failed: "
              + Files.readString(directory.resolve("commands.log")));
    }
  }
}
