package dev.postroom.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.postroom.outbox.Schema;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.postgresql.PGProperty;

/**
 * A fresh PostgreSQL database per test class, migrated with Postroom's own Flyway migrations, and
 * dropped afterwards.
 *
 * <p>The server comes from {@code POSTROOM_TEST_DB} (a JDBC URL with a user allowed to create
 * databases), else from a Testcontainers PostgreSQL where a Docker engine runs. Register it with
 * {@code @RegisterExtension static final TestDatabase db = new TestDatabase();}.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
  private final boolean migrate;
  private String name;
  private String url;
  private HikariDataSource dataSource;

  public TestDatabase() {
    this(true);
  }

  private TestDatabase(boolean migrate) {
    this.migrate = migrate;
  }

  /** A fresh database without Postroom's schema, for tests of the migration itself. */
  public static TestDatabase empty() {
    return new TestDatabase(false);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String server = TestServer.jdbcUrl();
    name =
        ("postroom_t_"
                + context.getRequiredTestClass().getSimpleName()
                + "_"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20)))
            .toLowerCase(Locale.ROOT);
    try (Connection admin = DriverManager.getConnection(server);
        Statement st = admin.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    }
    url = withDatabase(server, name);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(16);
    config.setPoolName("test-" + name);
    dataSource = new HikariDataSource(config);
    if (migrate) {
      Schema.migrate(dataSource);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (dataSource != null) {
      dataSource.close();
    }
    try (Connection admin = DriverManager.getConnection(TestServer.jdbcUrl());
        Statement st = admin.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }

  public HikariDataSource dataSource() {
    return dataSource;
  }

  public Jdbi jdbi() {
    return Jdbi.create(dataSource);
  }

  /** The JDBC URL of this test's database, with the server's credentials. */
  public String url() {
    return url;
  }

  public String name() {
    return name;
  }

  /** A new connection outside the pool, e.g. for LISTEN or for a session as another role. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url);
  }

  static String withDatabase(String serverUrl, String database) {
    Properties props = org.postgresql.Driver.parseURL(serverUrl, new Properties());
    if (props == null) {
      throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + serverUrl);
    }
    String host = PGProperty.PG_HOST.getOrDefault(props);
    String port = PGProperty.PG_PORT.getOrDefault(props);
    StringBuilder out =
        new StringBuilder("jdbc:postgresql://")
            .append(host)
            .append(':')
            .append(port)
            .append('/')
            .append(database);
    char sep = '?';
    for (PGProperty p : new PGProperty[] {PGProperty.USER, PGProperty.PASSWORD}) {
      String v = p.getOrDefault(props);
      if (v != null && !v.isEmpty()) {
        out.append(sep).append(p.getName()).append('=').append(v);
        sep = '&';
      }
    }
    return out.toString();
  }
}
