package dev.postroom.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.dispatch.Dispatcher;
import dev.postroom.dispatch.DispatcherConfig;
import dev.postroom.outbox.Schema;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * Drain rate of mail sent from a template against the same mail written out (2 KiB, one recipient),
 * one dispatcher with its defaults, runs alternated in pairs (which goes first swaps every pair);
 * prints both medians and the median of the per-pair ratios. Arguments: port=P (an SMTP sink on
 * 127.0.0.1), db=JDBC URL of a server, mails=N, pairs=N.
 */
public final class TemplateBenchmark {
  private static final String TEMPLATE_BODY =
      "Dear {{name}},\n\nyour order {{n}}:\n{{#lines}}\n  {{qty}} x {{item}} at {{price}} EUR\n"
          + "{{/lines}}\n"
          + "x".repeat(72).concat("\n").repeat(24)
          + "Regards\n";

  private TemplateBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      a.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    }
    String server = a.getOrDefault("db", "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
    int port = Integer.parseInt(a.get("port"));
    int mails = Integer.parseInt(a.getOrDefault("mails", "20000"));
    int pairs = Integer.parseInt(a.getOrDefault("pairs", "5"));
    double[] plain = new double[pairs];
    double[] templated = new double[pairs];
    double[] ratio = new double[pairs];
    for (int p = 0; p < pairs; p++) {
      for (int turn = 0; turn < 2; turn++) {
        boolean templateTurn = (p + turn) % 2 == 1;
        double rate = drain(server, port, mails, templateTurn);
        if (templateTurn) {
          templated[p] = rate;
        } else {
          plain[p] = rate;
        }
      }
      ratio[p] = templated[p] / plain[p];
      System.out.printf(
          Locale.ROOT,
          "pair %d: plain %.0f mails/s, template %.0f mails/s, ratio %.3f%n",
          p + 1,
          plain[p],
          templated[p],
          ratio[p]);
    }
    System.out.printf(
        Locale.ROOT,
        "median of %d pairs of %,d mails: plain %.0f mails/s, template %.0f mails/s,"
            + " template/plain %.3f (min %.3f, max %.3f)%n",
        pairs,
        mails,
        median(plain),
        median(templated),
        median(ratio),
        Arrays.stream(ratio).min().orElse(0),
        Arrays.stream(ratio).max().orElse(0));
  }

  private static double drain(String server, int port, int mails, boolean template)
      throws Exception {
    try (Connection c = DriverManager.getConnection(server);
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS postroom_bench_tmpl WITH (FORCE)");
      st.execute("CREATE DATABASE postroom_bench_tmpl");
    }
    String url = server.replaceFirst("/[^/?]+(\\?|$)", "/postroom_bench_tmpl$1");
    try (HikariDataSource ds = Benchmark.pool(url, 8)) {
      Schema.migrate(ds);
      Jdbi jdbi = Jdbi.create(ds);
      jdbi.useHandle(h -> {
        h.execute(
            "SELECT mail.add_account(name => 'sink', host => '127.0.0.1', port => "
                + port
                + ", tls => 'none', from_address => 'bench@postroom.test', max_connections => 16)");
        h.execute("SELECT mail.add_profile('bench', is_default => true)");
        h.execute("SELECT mail.add_profile_account('bench', 'sink', 1)");
        h.execute(
            "SELECT mail.add_template('order', 'Order {{n}} for {{name}}', ?)", TEMPLATE_BODY);
        String lines =
            "(SELECT jsonb_agg(jsonb_build_object('qty', k, 'item', 'item ' || k, 'price', k * 1.25))"
                + " FROM generate_series(1, 5) k)";
        if (template) {
          h.execute(
              "INSERT INTO mail.outbox (recipients, template_name, template_data)"
                  + " SELECT 'u' || g || '@example.com', 'order', jsonb_build_object('n', g,"
                  + " 'name', 'User ' || g, 'lines', "
                  + lines
                  + ") FROM generate_series(1, ?) g",
              mails);
        } else {
          // The same text the template gives, written out by the SQL preview.
          h.execute(
              "INSERT INTO mail.outbox (recipients, subject, body)"
                  + " SELECT 'u' || g || '@example.com', r.subject, r.body"
                  + " FROM generate_series(1, ?) g, mail.render_template('order',"
                  + " jsonb_build_object('n', g, 'name', 'User ' || g, 'lines', "
                  + lines
                  + ")) r",
              mails);
        }
      });
      long t0 = System.nanoTime();
      try (Dispatcher d =
          new Dispatcher(
              ds,
              () -> DriverManager.getConnection(url),
              DispatcherConfig.defaults("bench-" + (template ? "template" : "plain")),
              new SimpleMeterRegistry(),
              Clock.systemUTC())) {
        d.runUntilIdle();
      }
      double rate = mails / ((System.nanoTime() - t0) / 1e9);
      long sent =
          jdbi.withHandle(h ->
              h.createQuery("SELECT count(*) FROM mail.outbox WHERE status = 'sent'")
                  .mapTo(Long.class)
                  .one());
      if (sent != mails) {
        throw new IllegalStateException("only " + sent + " of " + mails + " sent");
      }
      return rate;
    }
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }
}
