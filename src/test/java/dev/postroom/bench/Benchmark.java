package dev.postroom.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.dispatch.Dispatcher;
import dev.postroom.dispatch.DispatcherConfig;
import dev.postroom.outbox.Schema;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;

/**
 * Postroom's benchmark: enqueue rates, drain rate by dispatcher count, latency at light load,
 * database writes per mail and dispatcher memory, against an SMTP sink on loopback. Run it with
 * {@code bench/run.sh}; arguments are {@code key=value}: {@code db} (server JDBC URL), {@code port}
 * (sink), {@code mails} (backlog, default 10000), {@code runs} (default 3), {@code big} (a second
 * backlog, e.g. 1000000; default off), {@code out} (results file).
 */
public final class Benchmark {
  static final String BODY = "x".repeat(72) + "\n";
  static final String BODY_2K = BODY.repeat(27);

  /** The benchmark's own database, dropped and created for every run (POSTROOM_BENCH_DATABASE). */
  static final String DATABASE =
      System.getenv().getOrDefault("POSTROOM_BENCH_DATABASE", "postroom_bench");

  private String server;
  private long postmasterPid;
  private final int port;
  private final int runs;
  private final StringBuilder report = new StringBuilder();
  private final List<double[]> chart = new ArrayList<>();
  private int ratioConcurrency;

  private Benchmark(String server, int port, int runs) {
    this.server = server;
    this.port = port;
    this.runs = runs;
  }

  public static void main(String[] args) throws Exception {
    java.util.Map<String, String> a = new java.util.HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      a.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    int port = Integer.parseInt(a.get("port"));
    AutoCloseable fallbackSink = null;
    if (port == 0) {
      var sink = dev.postroom.cli.demo.CaptureSmtpServer.start(java.util.Map.of());
      fallbackSink = sink;
      port = sink.port();
    }
    Benchmark b =
        new Benchmark(
            a.getOrDefault("db", "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres"),
            port,
            Integer.parseInt(a.getOrDefault("runs", "3")));
    int mails = Integer.parseInt(a.getOrDefault("mails", "10000"));
    b.line("# Postroom benchmark, " + LocalDateTime.now().withNano(0));
    b.line("");
    b.line(a.getOrDefault("machine", ""));
    b.line("");
    b.line("| figure | median | min – max |");
    b.line("| --- | --- | --- |");
    dev.postroom.testing.PgCluster own = null;
    if ("own".equals(a.get("cluster"))) {
      // A server of the benchmark's own, so that its CPU time is the benchmark's alone.
      own =
          dev.postroom.testing.PgCluster.initPrimary(
              Files.createTempDirectory("postroom-bench"),
              "bench",
              List.of(
                  "fsync = on",
                  "shared_buffers = '256MB'",
                  "max_connections = 200",
                  "shared_preload_libraries = 'pg_stat_statements'",
                  "pg_stat_statements.track = all"));
      own.start();
      b.server = own.jdbcUrl("postgres");
      b.postmasterPid = own.postmasterPid();
      b.line("Server: a cluster of the benchmark's own (fsync on), CPU time measured per mail.");
      b.line("");
    }
    if ("shaping".equals(a.get("only"))) {
      b.shapingCost(mails);
      b.write(a, fallbackSink);
      if (own != null) {
        own.close();
      }
      return;
    }
    int pairs = Integer.parseInt(a.getOrDefault("pairs", "5"));
    b.ratioConcurrency = Integer.parseInt(a.getOrDefault("concurrency", "0"));
    b.ratio(Integer.parseInt(a.getOrDefault("ratioMails", "20000")), pairs);
    if ("ratio".equals(a.get("only"))) {
      b.write(a, fallbackSink);
      if (own != null) {
        own.close();
      }
      return;
    }
    b.enqueue();
    for (int dispatchers : new int[] {1, 2, 4}) {
      b.drain(mails, dispatchers, 1, 0);
    }
    b.drain(mails / 5, 1, 5, 0);
    b.drain(mails / 10, 1, 1, 100 * 1024);
    b.latency(100, 10);
    if (a.containsKey("big")) {
      b.drain(Integer.parseInt(a.get("big")), 1, 1, 0);
    }
    b.write(a, fallbackSink);
  }

  private void write(java.util.Map<String, String> a, AutoCloseable fallbackSink) throws Exception {
    Path out = Path.of(a.getOrDefault("out", "bench/out/results.md"));
    Files.createDirectories(out.getParent());
    Files.writeString(out, report.toString());
    if (!chart.isEmpty()) {
      Files.writeString(out.resolveSibling("chart.svg"), Chart.svg(chart));
    }
    if (fallbackSink != null) {
      fallbackSink.close();
    }
  }

  /**
   * The headline figure: Postroom's drain rate over the hand-written {@link NaiveDispatcher}'s, the
   * same mails (2 KiB, one recipient) against the same sink, runs alternated (which goes first
   * swaps every pair), the median of the per-pair ratios. Postroom runs as {@code postroom run
   * --until-idle} does: one dispatcher with its default settings.
   */
  /** Where the server's time went in the last drain (own cluster only): the top statements. */
  private void statementReport() throws Exception {
    String url = server.replaceFirst("/[^/?]+(\\?|$)", "/postroom_bench$1");
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      try (var rs =
          st.executeQuery(
              "SELECT calls, round(total_exec_time::numeric, 1) AS ms, rows,"
                  + " left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q"
                  + " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 14")) {
        while (rs.next()) {
          System.out.printf(
              Locale.ROOT,
              "  %8d calls %10s ms %8d rows  %s%n",
              rs.getLong(1),
              rs.getString(2),
              rs.getLong(3),
              rs.getString(4));
        }
      }
    }
  }

  private void ratio(int mails, int pairs) throws Exception {
    double[] postroom = new double[pairs];
    double[] naive = new double[pairs];
    double[] ratio = new double[pairs];
    double[][] cpu = new double[4][pairs]; // postroom jvm, postroom pg, naive jvm, naive pg
    for (int p = 0; p < pairs; p++) {
      for (int turn = 0; turn < 2; turn++) {
        boolean postroomTurn = (p + turn) % 2 == 0;
        String url = freshDatabase();
        try (HikariDataSource ds = pool(url, NaiveDispatcher.THREADS)) {
          if (postroomTurn) {
            Jdbi.create(ds)
                .useHandle(h ->
                    h.execute(
                        "INSERT INTO mail.outbox (recipients, subject, body) SELECT 'u' || g ||"
                            + " '@example.com', 'Bench ' || g, repeat('x', 2000)"
                            + " FROM generate_series(1, "
                            + mails
                            + ") g"));
            if (postmasterPid > 0) {
              try (Connection c = ds.getConnection();
                  Statement st = c.createStatement()) {
                st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                st.execute("SELECT pg_stat_statements_reset()");
              }
            }
            CpuMeter cpu0 = CpuMeter.read(postmasterPid);
            long t0 = System.nanoTime();
            try (Dispatcher d =
                new Dispatcher(
                    ds,
                    () -> DriverManager.getConnection(url),
                    ratioConcurrency > 0
                        ? DispatcherConfig.defaults("ratio").withConcurrency(ratioConcurrency)
                        : DispatcherConfig.defaults("ratio"),
                    new SimpleMeterRegistry(),
                    Clock.systemUTC())) {
              d.runUntilIdle();
            }
            postroom[p] = mails / ((System.nanoTime() - t0) / 1e9);
            CpuMeter used = CpuMeter.read(postmasterPid).minus(cpu0);
            cpu[0][p] = used.jvmMillis() * 1000.0 / mails;
            cpu[1][p] = used.postgresMillis() * 1000.0 / mails;
            long sent =
                Jdbi.create(ds)
                    .withHandle(h ->
                        h.createQuery("SELECT count(*) FROM mail.outbox WHERE status = 'sent'")
                            .mapTo(Long.class)
                            .one());
            if (sent != mails) {
              throw new IllegalStateException("postroom sent " + sent + " of " + mails);
            }
          } else {
            try (Connection c = ds.getConnection()) {
              NaiveDispatcher.createTable(c);
              NaiveDispatcher.enqueue(c, mails, "x".repeat(2000));
            }
            CpuMeter cpu0 = CpuMeter.read(postmasterPid);
            long t0 = System.nanoTime();
            long sent = NaiveDispatcher.drain(ds, port);
            naive[p] = mails / ((System.nanoTime() - t0) / 1e9);
            CpuMeter used = CpuMeter.read(postmasterPid).minus(cpu0);
            cpu[2][p] = used.jvmMillis() * 1000.0 / mails;
            cpu[3][p] = used.postgresMillis() * 1000.0 / mails;
            if (sent != mails) {
              throw new IllegalStateException("the naive dispatcher sent " + sent + " of " + mails);
            }
          }
        }
      }
      ratio[p] = postroom[p] / naive[p];
      System.out.printf(
          Locale.ROOT,
          "pair %d: postroom %.0f mails/s (CPU µs/mail: JVM %.0f, PostgreSQL %.0f),"
              + " naive %.0f mails/s (JVM %.0f, PostgreSQL %.0f), ratio %.2f%n",
          p + 1,
          postroom[p],
          cpu[0][p],
          cpu[1][p],
          naive[p],
          cpu[2][p],
          cpu[3][p],
          ratio[p]);
    }
    if (postmasterPid > 0) {
      statementReport();
    }
    String what = String.format(Locale.ROOT, "drain %,d mails (1 recipient, 2 KiB)", mails);
    row(what + ", `postroom run --until-idle` (1 dispatcher, defaults)", postroom, "mails/s");
    row(
        what + ", naive hand-written dispatcher (16 threads, SKIP LOCKED 100, Angus Mail)",
        naive,
        "mails/s");
    row(what + ", Postroom: JVM CPU per mail", cpu[0], "µs");
    row(what + ", naive: JVM CPU per mail", cpu[2], "µs");
    if (postmasterPid > 0) {
      row(what + ", Postroom: PostgreSQL CPU per mail", cpu[1], "µs");
      row(what + ", naive: PostgreSQL CPU per mail", cpu[3], "µs");
    }
    double[] v = ratio.clone();
    java.util.Arrays.sort(v);
    line(
        String.format(
            Locale.ROOT,
            "| **ratio Postroom / naive** (median of %d alternated pairs) | **%.2f×** | %.2f – %.2f |",
            pairs,
            v[v.length / 2],
            v[0],
            v[v.length - 1]));
  }

  private void line(String s) {
    report.append(s).append('\n');
    System.out.println(s);
  }

  private void row(String figure, double[] values, String unit) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    line(
        String.format(
            Locale.ROOT,
            "| %s | %,.0f %s | %,.0f – %,.0f |",
            figure,
            v[v.length / 2],
            unit,
            v[0],
            v[v.length - 1]));
  }

  private String freshDatabase() throws Exception {
    try (Connection c = DriverManager.getConnection(server);
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
      st.execute("CREATE DATABASE " + DATABASE);
    }
    String url = server.replaceFirst("/[^/?]+(\\?|$)", "/" + DATABASE + "$1");
    try (HikariDataSource ds = pool(url, 2)) {
      Schema.migrate(ds);
      Jdbi.create(ds)
          .useHandle(h -> {
            h.execute(
                "SELECT mail.add_account(name => 'sink', host => '127.0.0.1', port => "
                    + port
                    + ", tls => 'none', from_address => 'bench@postroom.test',"
                    + " max_connections => 16)");
            h.execute("SELECT mail.add_profile('bench', is_default => true)");
            h.execute("SELECT mail.add_profile_account('bench', 'sink', 1)");
            h.execute("SELECT mail.configure('suppress_hard_bounces', 'false')");
          });
    }
    return url;
  }

  static HikariDataSource pool(String url, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setMaximumPoolSize(size);
    return new HikariDataSource(c);
  }

  /** mail.send one per transaction and 1,000 per transaction, 4 sessions, and bulk INSERT. */
  private void enqueue() throws Exception {
    double[] single = new double[runs];
    double[] batched = new double[runs];
    double[] four = new double[runs];
    double[] bulk = new double[runs];
    for (int r = 0; r < runs; r++) {
      String url = freshDatabase();
      single[r] = sendRate(url, 1, 2_000, 1);
      batched[r] = sendRate(url, 1, 10_000, 1_000);
      four[r] = sendRate(url, 4, 2_500, 1);
      try (Connection c = DriverManager.getConnection(url);
          Statement st = c.createStatement()) {
        long t0 = System.nanoTime();
        st.execute(
            "INSERT INTO mail.outbox (recipients, subject, body) SELECT 'u' || g ||"
                + " '@example.com', 'Bulk ' || g, repeat('x', 2000) FROM generate_series(1, 20000) g");
        bulk[r] = 20_000 / ((System.nanoTime() - t0) / 1e9);
      }
    }
    row("enqueue: `mail.send`, 1 session, 1 per transaction", single, "mails/s");
    row("enqueue: `mail.send`, 1 session, 1,000 per transaction", batched, "mails/s");
    row("enqueue: `mail.send`, 4 sessions, 1 per transaction", four, "mails/s");
    row("enqueue: one multi-row `INSERT INTO mail.outbox` of 20,000", bulk, "mails/s");
  }

  private static double sendRate(String url, int sessions, int perSession, int perTx)
      throws Exception {
    ExecutorService ex = Executors.newFixedThreadPool(sessions);
    long t0 = System.nanoTime();
    List<Future<?>> fs = new ArrayList<>();
    for (int s = 0; s < sessions; s++) {
      fs.add(
          ex.submit(() -> {
            try (Connection c = DriverManager.getConnection(url);
                PreparedStatement ps =
                    c.prepareStatement(
                        "SELECT mail.send(recipients => ?, subject => ?, body => ?)")) {
              c.setAutoCommit(perTx == 1);
              for (int i = 0; i < perSession; i++) {
                ps.setString(1, "user" + i + "@example.com");
                ps.setString(2, "Invoice " + i);
                ps.setString(3, BODY_2K);
                ps.executeQuery().close();
                if (perTx > 1 && (i + 1) % perTx == 0) {
                  c.commit();
                }
              }
              if (perTx > 1) {
                c.commit();
              }
            }
            return null;
          }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    ex.shutdown();
    return sessions * perSession / ((System.nanoTime() - t0) / 1e9);
  }

  /**
   * Issue 16: the cost of shaping shared by all dispatchers. The same drain with 2 dispatchers,
   * without any rate limit or destination policy, and with a generous shared limit on the account
   * and on the recipients' domain (far above what the sink takes, so that only the cost shows).
   */
  private void shapingCost(int mails) throws Exception {
    drain(
        mails,
        2,
        1,
        0,
        "UPDATE mail.account SET max_connections = 1000",
        "account 1,000 sessions, no rate limit, no destination policy");
    drain(
        mails,
        2,
        1,
        0,
        "UPDATE mail.account SET rate_per_minute = 10000000, max_connections = 1000;"
            + " SELECT mail.add_destination_policy('example.com', 1000, 10000000)",
        "shared limits: account 1,000 sessions / 10,000,000 a minute, example.com 1,000 sessions"
            + " / 10,000,000 a minute");
  }

  /** A backlog enqueued first, then drained by {@code dispatchers} until every mail is sent. */
  private void drain(int mails, int dispatchers, int recipients, int attachmentBytes)
      throws Exception {
    drain(mails, dispatchers, recipients, attachmentBytes, null, null);
  }

  private void drain(
      int mails,
      int dispatchers,
      int recipients,
      int attachmentBytes,
      String setupSql,
      String label)
      throws Exception {
    double[] rate = new double[runs];
    double[] writes = new double[runs];
    double[] wal = new double[runs];
    double[] rss = new double[runs];
    for (int r = 0; r < runs; r++) {
      String url = freshDatabase();
      try (HikariDataSource ds = pool(url, 8)) {
        if (setupSql != null) {
          Jdbi.create(ds).useHandle(h -> h.createScript(setupSql).execute());
        }
        Jdbi.create(ds)
            .useHandle(h -> {
              String rcpts =
                  recipients == 1
                      ? "'u' || g || '@example.com'"
                      : "(SELECT string_agg('u' || g || '-' || k || '@example.com', ';')"
                          + " FROM generate_series(1,"
                          + recipients
                          + ") k)";
              h.execute(
                  "INSERT INTO mail.outbox (recipients, subject, body) SELECT "
                      + rcpts
                      + ", 'Bench ' || g, repeat('x', 2000) FROM generate_series(1, "
                      + mails
                      + ") g");
              if (attachmentBytes > 0) {
                h.execute(
                    "INSERT INTO mail.attachment (mail_id, filename, content_type, content)"
                        + " SELECT id, 'report.bin', 'application/octet-stream',"
                        + " decode(repeat('00', "
                        + attachmentBytes
                        + "), 'hex') FROM mail.outbox");
              }
            });
        ds.getHikariPoolMXBean().softEvictConnections();
        Thread.sleep(500); // the enqueueing sessions publish their statistics as they close
        Stats before = Stats.read(url);
        RssSampler sampler = RssSampler.start();
        long t0 = System.nanoTime();
        ExecutorService ex = Executors.newFixedThreadPool(dispatchers);
        List<Future<?>> fs = new ArrayList<>();
        for (int d = 0; d < dispatchers; d++) {
          String name = "bench-" + d;
          fs.add(
              ex.submit(() -> {
                try (HikariDataSource dispatcherPool = pool(url, 8);
                    Dispatcher dispatcher =
                        new Dispatcher(
                            dispatcherPool,
                            () -> DriverManager.getConnection(url),
                            DispatcherConfig.defaults(name).withConcurrency(128),
                            new SimpleMeterRegistry(),
                            Clock.systemUTC())) {
                  dispatcher.runUntilIdle();
                }
                return null;
              }));
        }
        for (Future<?> f : fs) {
          f.get();
        }
        ex.shutdown();
        double seconds = (System.nanoTime() - t0) / 1e9;
        rss[r] = sampler.stop() / 1024.0;
        Thread.sleep(500); // the dispatchers' backends publish their statistics as they exit
        Stats after = Stats.read(url);
        long sent =
            Jdbi.create(ds)
                .withHandle(h ->
                    h.createQuery("SELECT count(*) FROM mail.outbox WHERE status = 'sent'")
                        .mapTo(Long.class)
                        .one());
        if (sent != mails) {
          throw new IllegalStateException("only " + sent + " of " + mails + " mails sent");
        }
        rate[r] = mails / seconds;
        writes[r] = (double) (after.tuples() - before.tuples()) / mails;
        wal[r] = (double) (after.wal() - before.wal()) / mails;
      }
    }
    String what =
        String.format(
                Locale.ROOT,
                "drain %,d mails (%s%s), %d dispatcher%s",
                mails,
                recipients == 1 ? "1 recipient" : recipients + " recipients",
                attachmentBytes > 0 ? ", " + attachmentBytes / 1024 + " KiB attachment" : ", 2 KiB",
                dispatchers,
                dispatchers == 1 ? "" : "s")
            + (label == null ? "" : ", " + label);
    row(what, rate, "mails/s");
    if (recipients == 1 && attachmentBytes == 0) {
      row(what + ": rows inserted, updated or deleted per mail", writes, "");
      row(what + ": WAL bytes per mail", wal, "B");
      row(what + ": process RSS (peak)", rss, "MiB");
      double[] sorted = rate.clone();
      java.util.Arrays.sort(sorted);
      chart.add(new double[] {dispatchers, sorted[sorted.length / 2], Double.NaN, Double.NaN});
    }
  }

  /** Commit of mail.send to the recorded delivery, at {@code perSecond} for {@code seconds}. */
  private void latency(int perSecond, int seconds) throws Exception {
    String url = freshDatabase();
    List<Double> samples = new ArrayList<>();
    try (HikariDataSource ds = pool(url, 8);
        Dispatcher d =
            new Dispatcher(
                ds,
                () -> DriverManager.getConnection(url),
                DispatcherConfig.defaults("latency"),
                new SimpleMeterRegistry(),
                Clock.systemUTC());
        Connection c = DriverManager.getConnection(url);
        PreparedStatement ps =
            c.prepareStatement("SELECT mail.send(recipients => ?, subject => 'Hi', body => ?)")) {
      d.start();
      Thread.sleep(1_000);
      int n = perSecond * seconds;
      long[] committed = new long[n];
      long[] ids = new long[n];
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long due = start + i * 1_000_000_000L / perSecond;
        while (System.nanoTime() < due) {
          Thread.onSpinWait();
        }
        ps.setString(1, "lat" + i + "@example.com");
        ps.setString(2, BODY_2K);
        try (var rs = ps.executeQuery()) {
          rs.next();
          ids[i] = rs.getLong(1);
        }
        java.time.Instant now = java.time.Instant.now();
        committed[i] = now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
      }
      Thread.sleep(2_000);
      try (PreparedStatement q =
          c.prepareStatement(
              "SELECT extract(epoch FROM delivered_at) * 1000000 FROM mail.recipient"
                  + " WHERE mail_id = ?")) {
        for (int i = 0; i < n; i++) {
          q.setLong(1, ids[i]);
          try (var rs = q.executeQuery()) {
            if (rs.next() && rs.getObject(1) != null) {
              samples.add((rs.getDouble(1) - committed[i]) / 1000.0);
            }
          }
        }
      }
    }
    samples.sort(null);
    double p50 = samples.get(samples.size() / 2);
    double p99 = samples.get((int) (samples.size() * 0.99));
    line(
        String.format(
            Locale.ROOT,
            "| latency, commit of `mail.send` → recorded 250, %d mails/s for %d s | p50 %.1f ms | p99 %.1f ms (%d samples) |",
            perSecond,
            seconds,
            p50,
            p99,
            samples.size()));
    chart.add(new double[] {0, Double.NaN, p50, p99});
  }
}
