package dev.postroom.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory on a free loopback port, made
 * with the server binaries on the machine ({@code initdb}, {@code pg_ctl}, {@code pg_basebackup}).
 * When the tests run as root the binaries run as {@code postgres}, which owns the directory. Used
 * for what the shared server cannot do: stop it hard, promote a replica.
 */
public final class PgCluster implements AutoCloseable {
  private static final Path BIN_ROOT = Path.of("/usr/lib/postgresql");

  private final Path dir;
  private final int port;
  private final String superuserPassword;
  private boolean running;

  private PgCluster(Path dir, int port, String superuserPassword) {
    this.dir = dir;
    this.port = port;
    this.superuserPassword = superuserPassword;
  }

  /** Why clusters cannot be made here, or empty where they can. */
  public static Optional<String> unavailable() {
    if (bin().isEmpty()) {
      return Optional.of("no PostgreSQL server binaries under " + BIN_ROOT);
    }
    if (isRoot() && !new File("/usr/sbin/runuser").canExecute()) {
      return Optional.of("running as root without runuser to start PostgreSQL as postgres");
    }
    return Optional.empty();
  }

  /** A new primary: trust authentication on loopback, streaming replication enabled. */
  public static PgCluster initPrimary(Path parent, String name, List<String> settings)
      throws IOException, InterruptedException {
    PgCluster cluster = new PgCluster(ownedDirectory(parent, name), freePort(), null);
    cluster.run(
        "initdb", "-D", cluster.data().toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8");
    List<String> conf = new ArrayList<>(cluster.baseSettings());
    conf.addAll(List.of("wal_level = replica", "max_wal_senders = 8", "wal_keep_size = '256MB'"));
    conf.addAll(settings);
    cluster.appendConf(conf);
    return cluster;
  }

  /**
   * A new cluster whose every login, local or TCP, needs a SCRAM-SHA-256 password, where a wrong
   * password really fails (the machine's own server trusts loopback). The superuser {@code
   * postgres} logs in with {@code superuserPassword}.
   */
  public static PgCluster initWithPasswords(Path parent, String name, String superuserPassword)
      throws IOException, InterruptedException {
    PgCluster cluster =
        new PgCluster(ownedDirectory(parent, name), freePort(), superuserPassword);
    Path pwfile = cluster.dir.resolve("pwfile");
    Files.writeString(pwfile, superuserPassword + "\n");
    if (isRoot()) {
      Files.setOwner(pwfile, postgresUser(pwfile));
    }
    cluster.run(
        "initdb",
        "-D",
        cluster.data().toString(),
        "-U",
        "postgres",
        "--pwfile=" + pwfile,
        "--auth-host=scram-sha-256",
        "--auth-local=scram-sha-256",
        "-E",
        "UTF8",
        "--no-sync");
    cluster.appendConf(cluster.baseSettings());
    return cluster;
  }

  /** A streaming replica of {@code primary} (which must be running), not yet started. */
  public static PgCluster replicaOf(PgCluster primary, Path parent, String name)
      throws IOException, InterruptedException {
    PgCluster cluster = new PgCluster(ownedDirectory(parent, name), freePort(), null);
    cluster.run(
        "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        String.valueOf(primary.port),
        "-U",
        "postgres",
        "-D",
        cluster.data().toString(),
        "-X",
        "stream",
        "--checkpoint=fast",
        "-R");
    cluster.appendConf(cluster.baseSettings());
    // After what -R wrote there, so that this one counts: the name synchronous_standby_names uses.
    Path auto = cluster.data().resolve("postgresql.auto.conf");
    Files.writeString(
        auto,
        Files.readString(auto)
            + "primary_conninfo = 'host=127.0.0.1 port="
            + primary.port
            + " user=postgres application_name="
            + name
            + "'\n");
    return cluster;
  }

  public int port() {
    return port;
  }

  public void start() throws IOException, InterruptedException {
    run(
        "pg_ctl",
        "-D",
        data().toString(),
        "-l",
        dir.resolve("log").toString(),
        "-w",
        "-t",
        "60",
        "start");
    running = true;
  }

  /** As a crash: no shutdown checkpoint, clients cut off at once. */
  public void stopImmediately() throws IOException, InterruptedException {
    run("pg_ctl", "-D", data().toString(), "-m", "immediate", "-w", "stop");
    running = false;
  }

  /** Ends recovery: the replica becomes a primary that takes writes. */
  public void promote() throws IOException, InterruptedException {
    run("pg_ctl", "-D", data().toString(), "-w", "-t", "60", "promote");
  }

  /** psql as postgres, to the given database; returns what it printed. */
  public String psql(String database, String sql) throws IOException, InterruptedException {
    return run(
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-p",
            String.valueOf(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql)
        .strip();
  }

  /** The postmaster's process id, from {@code postmaster.pid}. */
  public long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(data().resolve("postmaster.pid")).get(0).strip());
  }

  /** A JDBC URL that logs in as the superuser (with its password where the cluster needs one). */
  public String jdbcUrl(String database) {
    return url(database)
        + "?user=postgres"
        + (superuserPassword == null ? "" : "&password=" + superuserPassword);
  }

  /** A JDBC URL of a database without any credentials. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  public String log() throws IOException {
    Path log = dir.resolve("log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (running) {
      try {
        run("pg_ctl", "-D", data().toString(), "-m", "immediate", "-w", "stop");
      } catch (IOException e) {
        // already stopped
      }
      running = false;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private Path data() {
    return dir.resolve("data");
  }

  private List<String> baseSettings() {
    return List.of(
        "port = " + port,
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = '" + dir + "'",
        "max_connections = 100",
        "fsync = off",
        "shared_buffers = '32MB'",
        "logging_collector = off");
  }

  private void appendConf(List<String> lines) throws IOException {
    Path conf = data().resolve("postgresql.conf");
    Files.writeString(
        conf,
        Files.readString(conf) + "\n" + String.join("\n", lines) + "\n",
        StandardCharsets.UTF_8);
  }

  private String run(String program, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    if (isRoot()) {
      command.addAll(List.of("/usr/sbin/runuser", "-u", "postgres", "--"));
    }
    command.add(bin().orElseThrow().resolve(program).toString());
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(program + " failed: " + output);
    }
    return output;
  }

  private static Optional<Path> bin() {
    File[] versions = BIN_ROOT.toFile().listFiles();
    if (versions == null) {
      return Optional.empty();
    }
    return Stream.of(versions)
        .map(File::toPath)
        .map(v -> v.resolve("bin"))
        .filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
        .max(Comparator.comparing(b -> versionOf(b.getParent())));
  }

  private static int versionOf(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static Path ownedDirectory(Path parent, String name) throws IOException {
    Path dir = Files.createDirectories(parent.resolve(name));
    if (isRoot()) {
      Files.setOwner(parent, postgresUser(dir));
      Files.setOwner(dir, postgresUser(dir));
    }
    return dir;
  }

  private static UserPrincipal postgresUser(Path any) throws IOException {
    return any.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
