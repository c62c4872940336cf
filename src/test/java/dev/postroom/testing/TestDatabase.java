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
 *
 * <p>The superuser of {@code POSTROOM_TEST_DB} is for set-up only ({@link #url()}, {@link
 * #jdbi()}): a test of what a user can do connects as the role that user has, with {@link
 * #urlAs}, {@link #dataSourceAs} or {@link #jdbiAs}. Each such role is a LOGIN role made for this
 * test class (roles are cluster-wide, so the name carries the database's random suffix), member of
 * {@code mail_sender}, {@code mail_admin} or {@code mail_dispatcher} and nothing else, and dropped
 * after the class.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
  private final boolean migrate;
  private String name;
  private String url;
  private HikariDataSource dataSource;
  private String suffix;
  private final java.util.Map<String, String> logins = new java.util.LinkedHashMap<>();
  private final java.util.Map<String, HikariDataSource> roleSources =
      new java.util.concurrent.ConcurrentHashMap<>();

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
    suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20));
    name =
        ("postroom_t_" + context.getRequiredTestClass().getSimpleName() + "_" + suffix)
            .toLowerCase(Locale.ROOT);
    try (Connection admin = DriverManager.getConnection(server);
        Statement st = admin.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    }
    url = withDatabase(server, name);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(16);
    config.setMinimumIdle(1); // the server is shared: open connections only when they are used
    config.setPoolName("test-" + name);
    dataSource = new HikariDataSource(config);
    if (migrate) {
      Schema.migrate(dataSource);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    roleSources.values().forEach(HikariDataSource::close);
    if (dataSource != null) {
      dataSource.close();
    }
    try (Connection admin = DriverManager.getConnection(TestServer.jdbcUrl());
        Statement st = admin.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      synchronized (logins) {
        for (String login : logins.values()) {
          st.execute("DROP ROLE IF EXISTS " + login);
        }
        logins.clear();
      }
    }
  }

  /**
   * The LOGIN role of this test class that is a member of {@code role} ({@code mail_sender},
   * {@code mail_admin} or {@code mail_dispatcher}), created on first use.
   */
  public String login(String role) {
    if (!role.matches("mail_(sender|admin|dispatcher)")) {
      throw new IllegalArgumentException("not a Postroom role: " + role);
    }
    synchronized (logins) {
      String existing = logins.get(role);
      if (existing != null) {
        return existing;
      }
      String login = "postroom_r_" + suffix + "_" + role.substring("mail_".length());
      try (Connection admin = DriverManager.getConnection(url);
          Statement st = admin.createStatement()) {
        st.execute("CREATE ROLE " + login + " LOGIN PASSWORD '" + login + "-pw' IN ROLE " + role);
      } catch (SQLException e) {
        throw new IllegalStateException("could not create the test role " + login, e);
      }
      logins.put(role, login);
      return login;
    }
  }

  /** The JDBC URL of this database for the test class's login in {@code role}. */
  public String urlAs(String role) {
    String login = login(role);
    return url.replaceFirst("\\?.*$", "") + "?user=" + login + "&password=" + login + "-pw";
  }

  /** A pool connecting as the test class's login in {@code role} (closed after the class). */
  public HikariDataSource dataSourceAs(String role) {
    return roleSources.computeIfAbsent(
        role,
        r -> {
          HikariConfig config = new HikariConfig();
          config.setJdbcUrl(urlAs(r));
          config.setMaximumPoolSize(16);
          config.setMinimumIdle(1);
          config.setPoolName("test-" + name + "-" + r);
          return new HikariDataSource(config);
        });
  }

  public Jdbi jdbiAs(String role) {
    return Jdbi.create(dataSourceAs(role));
  }

  /** A new connection outside the pool as the test class's login in {@code role}. */
  public Connection connectAs(String role) throws SQLException {
    return DriverManager.getConnection(urlAs(role));
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
