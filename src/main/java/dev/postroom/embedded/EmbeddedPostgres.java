package dev.postroom.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A PostgreSQL server started from the bundled binaries, listening on 127.0.0.1 only. The data
 * directory is created and initialised on the first start and reused afterwards, so a second run
 * finds the databases of the first. {@link #close()} stops the server (a shutdown hook does too).
 *
 * <p>As root (CI, containers) PostgreSQL refuses to run; the library then starts it through {@code
 * unshare -U}, which maps the process to an unprivileged user.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  /** The port tried first, so that the psql command printed once keeps working next time. */
  public static final int PREFERRED_PORT = 54329;

  public static final String SUPERUSER = "postgres";
  static final Duration STARTUP_WAIT = Duration.ofSeconds(90);

  private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
  private final Path directory;

  private EmbeddedPostgres(io.zonky.test.db.postgres.embedded.EmbeddedPostgres server, Path dir) {
    this.server = server;
    this.directory = dir;
  }

  /**
   * Starts a server whose data lives in {@code directory/data} (created when missing) and whose
   * binaries are unpacked into {@code directory/binaries}.
   *
   * @throws EmbeddedException when the binaries cannot be unpacked or the server does not start,
   *     e.g. because another process holds the same data directory
   */
  public static EmbeddedPostgres start(Path directory) {
    Path data = directory.resolve("data");
    Path binaries = directory.resolve("binaries");
    try {
      Files.createDirectories(binaries);
      Files.createDirectories(data.getParent());
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres server =
          io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
              .setDataDirectory(data)
              .setCleanDataDirectory(false)
              .setOverrideWorkingDirectory(binaries.toFile())
              .setPort(freePort())
              .setServerConfig("listen_addresses", "127.0.0.1")
              .setPGStartupWait(STARTUP_WAIT)
              .setRegisterShutdownHook(true)
              .start();
      return new EmbeddedPostgres(server, directory);
    } catch (IOException | RuntimeException e) {
      throw new EmbeddedException(
          "could not start the embedded PostgreSQL in " + directory + ": " + describe(e), e);
    }
  }

  /** Whether something accepts TCP connections on {@code host:port} within a short wait. */
  public static boolean listening(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public int port() {
    return server.getPort();
  }

  public Path directory() {
    return directory;
  }

  /** A JDBC URL of one of this server's databases, as the superuser. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?user=" + SUPERUSER;
  }

  /** A psql command line that connects to one of this server's databases while it runs. */
  public String psqlCommand(String database) {
    return "psql \"host=127.0.0.1 port=%d dbname=%s user=%s\""
        .formatted(port(), database, SUPERUSER);
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    if (!listening("127.0.0.1", PREFERRED_PORT)) {
      try (ServerSocket probe =
          new ServerSocket(PREFERRED_PORT, 1, InetAddress.getLoopbackAddress())) {
        return probe.getLocalPort();
      } catch (IOException taken) {
        // fall through to any free port
      }
    }
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  private static String describe(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && out.indexOf(t.getMessage()) < 0) {
        out.append(out.isEmpty() ? "" : ": ").append(t.getMessage());
      }
    }
    return out.isEmpty() ? e.getClass().getSimpleName() : out.toString();
  }
}
