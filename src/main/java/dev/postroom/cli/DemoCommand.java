package dev.postroom.cli;

import ch.qos.logback.classic.Level;
import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.app.DispatcherRuntime;
import dev.postroom.app.QueueGauges;
import dev.postroom.cli.demo.CaptureSmtpServer;
import dev.postroom.config.ConfigException;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.dispatch.DispatcherConfig;
import dev.postroom.embedded.EmbeddedPostgres;
import dev.postroom.outbox.Schema;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the whole flow on a local PostgreSQL: create (or reuse) the database postroom_demo,",
      "migrate it, start a capture SMTP server on loopback, enqueue a few mails, dispatch them",
      "and print what happened to every recipient. Nothing leaves this machine.",
      "Without --db, POSTROOM_DB_URL or PG* settings and with nothing listening on",
      "127.0.0.1:5432 it starts an embedded PostgreSQL (data under ~/.postroom/embedded)."
    })
final class DemoCommand implements Callable<Integer> {
  static final String DEFAULT_DATABASE = "postroom_demo";
  static final Duration TIME_LIMIT = Duration.ofSeconds(60);
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  @Option(
      names = "--database",
      paramLabel = "NAME",
      description = "The demo database on the server --db or PG* name (default: ${DEFAULT-VALUE}).")
  String database = DEFAULT_DATABASE;

  @Option(
      names = "--embedded",
      description =
          "Start the embedded PostgreSQL even where a server is reachable (not with --db).")
  boolean embedded;

  @Option(
      names = "--embedded-dir",
      paramLabel = "DIR",
      description =
          "Where the embedded PostgreSQL keeps its binaries and data (default: ${DEFAULT-VALUE}).")
  Path embeddedDirectory = defaultEmbeddedDirectory();

  DemoCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws Exception {
    ctx.logging();
    if (!ctx.verbose) {
      // the table below reports every outcome; per-retry warnings would repeat it
      ctx.logging().setLevel("dev.postroom", Level.ERROR);
    }
    if (embedded && ctx.db != null) {
      throw new ConfigException("--embedded and --db exclude each other: pick one server");
    }
    boolean noServer =
        !DatabaseConfig.chosen(ctx.db, ctx.env)
            && !EmbeddedPostgres.listening(
                DatabaseConfig.DEFAULT_HOST, DatabaseConfig.DEFAULT_PORT);
    if (!embedded && !noServer) {
      return demo(ctx.database().withDatabase(database));
    }
    if (!ctx.verbose) {
      ctx.logging().setLevel("io.zonky", Level.WARN);
    }
    ctx.out.printf(
        "%s: starting an embedded PostgreSQL with its data in %s%n",
        embedded
            ? "--embedded"
            : "No --db, POSTROOM_DB_URL or PG* settings and nothing listening on 127.0.0.1:5432",
        embeddedDirectory);
    int code;
    try (EmbeddedPostgres server = EmbeddedPostgres.start(embeddedDirectory)) {
      ctx.out.printf(
          "Embedded PostgreSQL listening on 127.0.0.1:%d; while it runs, connect with: %s%n",
          server.port(), server.psqlCommand(database));
      code = demo(DatabaseConfig.resolve(server.jdbcUrl(database), ctx.env));
    }
    ctx.out.printf(
        "%nStopped the embedded PostgreSQL; the next postroom demo starts it again on the same"
            + " data (%s).%n",
        embeddedDirectory);
    return code;
  }

  static Path defaultEmbeddedDirectory() {
    return Path.of(System.getProperty("user.home", "."), ".postroom", "embedded");
  }

  private int demo(DatabaseConfig demo) throws Exception {
    boolean created;
    try {
      created = DemoSetup.ensureDatabase(demo);
    } catch (SQLException e) {
      if (!Errors.isConnectionFailure(e) && !"42501".equals(e.getSQLState())) {
        throw e;
      }
      ctx.err.println(noServerParagraph(demo, e));
      return Main.FAILURE;
    }
    ctx.out.printf("Database %s (%s)%n", demo.describe(), created ? "created" : "reused");
    try (HikariDataSource pool = demo.pool("postroom-demo-migrate", 2)) {
      Schema.migrate(pool);
    }
    try (CaptureSmtpServer capture = CaptureSmtpServer.start(DemoSetup.CAPTURE_REPLIES)) {
      ctx.out.printf("Capture SMTP server listening on %s:%d%n", capture.host(), capture.port());
      DispatcherConfig config = DispatcherConfig.defaults("demo").withConcurrency(8);
      try (DispatcherRuntime runtime =
          DispatcherRuntime.create(
              demo, config, null, QueueGauges.DEFAULT_INTERVAL, Clock.systemUTC())) {
        List<Long> ids;
        try (Connection c = runtime.pool().getConnection()) {
          DemoSetup.configure(c, capture.host(), capture.port());
          ids = DemoSetup.enqueue(c);
        }
        ctx.out.printf("Enqueued %d mails with mail.send; dispatching…%n%n", ids.size());
        runUntilIdle(runtime);
        try (Connection c = runtime.pool().getConnection()) {
          boolean complete = printOutcome(c, ids);
          ctx.out.printf(
              "%nThe capture server received %d message(s) for %d recipient(s).%n",
              capture.messages().size(),
              capture.messages().stream().mapToInt(m -> m.forwardPaths().size()).sum());
          printNextSteps(demo);
          return complete ? Main.OK : Main.FAILURE;
        }
      }
    }
  }

  private static void runUntilIdle(DispatcherRuntime runtime) throws Exception {
    ExecutorService runner = Executors.newSingleThreadExecutor();
    try {
      Future<?> idle =
          runner.submit(() -> {
            runtime.dispatcher().runUntilIdle();
            return null;
          });
      idle.get(TIME_LIMIT.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new CliFailure("the dispatcher did not finish within " + TIME_LIMIT.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } finally {
      runner.shutdownNow();
    }
  }

  /** Prints one line per recipient; false when a recipient was left untouched. */
  private boolean printOutcome(Connection c, List<Long> ids) throws SQLException {
    Table table = new Table("mail", "subject", "mail status", "recipient", "status", "reply");
    boolean complete = true;
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT o.id, o.subject, o.status AS mail_status, r.kind, r.address, r.status,
                   concat_ws(' ', r.reply_code, r.enhanced_code, r.reply_text) AS reply
              FROM mail.outbox o JOIN mail.recipient r ON r.mail_id = o.id
             WHERE o.id = ANY (?)
             ORDER BY o.id, r.id
            """)) {
      Array array = c.createArrayOf("bigint", ids.toArray());
      st.setArray(1, array);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String status = rs.getString("status");
          complete &= !"pending".equals(status);
          table.row(
              rs.getLong("id"),
              rs.getString("subject"),
              rs.getString("mail_status"),
              rs.getString("kind") + ": " + rs.getString("address"),
              status,
              rs.getString("reply"));
        }
      }
    }
    table.print(ctx.out, "");
    return complete;
  }

  private void printNextSteps(DatabaseConfig demo) {
    String host = demo.hosts().get(0).host();
    int port = demo.hosts().get(0).port();
    String psql =
        "psql \"host=%s port=%d dbname=%s user=%s\""
            .formatted(host, port, demo.database(), demo.user());
    ctx.out.printf(
        """

        Where to look next (connect with: %s):
          SELECT * FROM mail.queue_status;
          SELECT id, status, subject, attempts, next_attempt_at, last_reply_text FROM mail.outbox ORDER BY id DESC LIMIT 5;
          SELECT mail_id, kind, address, status, reply_code, enhanced_code, reply_text FROM mail.recipient ORDER BY id DESC LIMIT 10;
          SELECT logged_at, mail_id, event, account_name, reply_code, reply_text FROM mail.event_log ORDER BY id DESC LIMIT 20;
        The deferred mail stays 'retrying' and is tried again on the retry schedule by: postroom run
        Send your own with: postroom send --db 'jdbc:postgresql://%s:%d/%s?user=%s' --to you@example.com --subject Hi --body Hello
        """,
        psql, host, port, demo.database(), demo.user());
  }

  static String noServerParagraph(DatabaseConfig demo, SQLException e) {
    return ("postroom demo needs a PostgreSQL server (15 or newer) and could not use the one at %s"
            + " (%s: %s). Point it at one with --db 'jdbc:postgresql://HOST:5432/postgres?user=USER"
            + "&password=SECRET', or set POSTROOM_DB_URL to such a URL, or set libpq's variables"
            + " PGHOST, PGPORT, PGUSER and PGPASSWORD (unset, they mean 127.0.0.1, 5432, your login"
            + " name and no password). The user needs the right to create the database %s, or it"
            + " must exist already; for example: sudo -u postgres createuser --createdb %s.")
        .formatted(
            demo.describe(), demo.source(), Errors.serverMessage(e), demo.database(), demo.user());
  }
}
