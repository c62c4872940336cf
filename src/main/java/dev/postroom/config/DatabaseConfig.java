package dev.postroom.config;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Where and as whom Postroom connects to PostgreSQL. Resolved, in order, from the {@code --db}
 * option, {@code POSTROOM_DB_URL}, then libpq's variables ({@code PGHOST}, {@code PGHOSTADDR},
 * {@code PGPORT}, {@code PGDATABASE}, {@code PGUSER}, {@code PGPASSWORD}, {@code PGSSLMODE}, {@code
 * PGAPPNAME}, {@code PGCONNECT_TIMEOUT}) with libpq's defaults. The password never appears in
 * {@link #jdbcUrl()}, {@link #describe()} or {@link #toString()}.
 *
 * @param hosts one or more servers, tried in order as libpq and pgjdbc do
 * @param database the database name
 * @param user the role to log in as
 * @param password the password, or null to let the driver use {@code ~/.pgpass} or trust
 * @param parameters further pgjdbc connection parameters, e.g. {@code sslmode}
 * @param source where the settings came from, for messages
 */
public record DatabaseConfig(
    List<HostPort> hosts,
    String database,
    String user,
    String password,
    Map<String, String> parameters,
    String source) {

  /** libpq's default port. */
  public static final int DEFAULT_PORT = 5432;

  /**
   * The host used when {@code PGHOST} is unset or names a Unix socket directory: libpq would use
   * the local socket, which JDBC cannot, so Postroom uses TCP on the IPv4 loopback instead.
   */
  public static final String DEFAULT_HOST = "127.0.0.1";

  public static final String APPLICATION_NAME = "postroom";

  public record HostPort(String host, int port) {
    public HostPort {
      if (host == null || host.isBlank()) {
        throw new ConfigException("database host must not be empty");
      }
      if (port < 1 || port > 65535) {
        throw new ConfigException("database port must be 1-65535, was " + port);
      }
    }

    @Override
    public String toString() {
      return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  public DatabaseConfig {
    hosts = List.copyOf(hosts);
    if (hosts.isEmpty()) {
      throw new ConfigException("no database host given");
    }
    if (database == null || database.isBlank()) {
      throw new ConfigException("database name must not be empty");
    }
    if (user == null || user.isBlank()) {
      throw new ConfigException("database user must not be empty");
    }
    parameters = Map.copyOf(parameters);
    Objects.requireNonNull(source, "source");
  }

  /**
   * Resolves the connection from the {@code --db} value (may be null) and the environment. Accepts
   * JDBC URLs ({@code jdbc:postgresql://host:port/db?user=…}) and libpq URIs ({@code
   * postgresql://user@host:port/db}).
   */
  public static DatabaseConfig resolve(String dbOption, Environment env) {
    if (dbOption != null && !dbOption.isBlank()) {
      return fromUrl(dbOption.strip(), "--db", env);
    }
    Optional<String> url = env.get("POSTROOM_DB_URL");
    if (url.isPresent()) {
      return fromUrl(url.get(), "POSTROOM_DB_URL", env);
    }
    return fromLibpqVariables(env);
  }

  /** libpq's connection variables; any one of them set means the user chose a server. */
  static final List<String> LIBPQ_VARIABLES =
      List.of(
          "PGHOST",
          "PGHOSTADDR",
          "PGPORT",
          "PGDATABASE",
          "PGUSER",
          "PGPASSWORD",
          "PGSSLMODE",
          "PGSERVICE",
          "PGPASSFILE");

  /**
   * Whether the user named a server at all: a {@code --db} value, {@code POSTROOM_DB_URL} or one of
   * libpq's connection variables. Without any, {@code postroom demo} may start an embedded server.
   */
  public static boolean chosen(String dbOption, Environment env) {
    return (dbOption != null && !dbOption.isBlank())
        || env.get("POSTROOM_DB_URL").isPresent()
        || LIBPQ_VARIABLES.stream().anyMatch(v -> env.get(v).isPresent());
  }

  static DatabaseConfig fromLibpqVariables(Environment env) {
    List<String> hostNames =
        split(env.get("PGHOSTADDR").or(() -> env.get("PGHOST")).orElse(DEFAULT_HOST));
    List<String> ports = split(env.get("PGPORT").orElse(String.valueOf(DEFAULT_PORT)));
    if (ports.size() != 1 && ports.size() != hostNames.size()) {
      throw new ConfigException(
          "PGPORT lists " + ports.size() + " ports for " + hostNames.size() + " hosts");
    }
    List<HostPort> hosts = new ArrayList<>();
    for (int i = 0; i < hostNames.size(); i++) {
      String host = hostNames.get(i);
      String port = ports.get(ports.size() == 1 ? 0 : i);
      hosts.add(
          new HostPort(host.startsWith("/") ? DEFAULT_HOST : host, parsePort("PGPORT", port)));
    }
    String user = env.get("PGUSER").orElse(env.osUser());
    String database = env.get("PGDATABASE").orElse(user);
    Map<String, String> parameters = new LinkedHashMap<>();
    env.get("PGSSLMODE").ifPresent(v -> parameters.put("sslmode", v));
    env.get("PGCONNECT_TIMEOUT").ifPresent(v -> parameters.put("connectTimeout", v));
    parameters.put("ApplicationName", env.get("PGAPPNAME").orElse(APPLICATION_NAME));
    return new DatabaseConfig(
        hosts, database, user, env.get("PGPASSWORD").orElse(null), parameters, "PG* variables");
  }

  static DatabaseConfig fromUrl(String url, String source, Environment env) {
    String jdbc = url.startsWith("jdbc:") ? url : jdbcFromUri(url, source);
    Properties props = org.postgresql.Driver.parseURL(jdbc, new Properties());
    if (props == null) {
      throw new ConfigException(
          source
              + " is not a PostgreSQL JDBC URL: '"
              + redact(url)
              + "' (expected jdbc:postgresql://HOST:PORT/DATABASE?user=USER)");
    }
    List<String> hostNames = split(props.getProperty("PGHOST", DEFAULT_HOST));
    List<String> ports = split(props.getProperty("PGPORT", String.valueOf(DEFAULT_PORT)));
    List<HostPort> hosts = new ArrayList<>();
    for (int i = 0; i < hostNames.size(); i++) {
      String port = i < ports.size() ? ports.get(i) : String.valueOf(DEFAULT_PORT);
      hosts.add(new HostPort(hostNames.get(i), parsePort(source, port)));
    }
    String user =
        Optional.ofNullable(props.getProperty("user"))
            .filter(u -> !u.isBlank())
            .or(() -> env.get("PGUSER"))
            .orElse(env.osUser());
    String password =
        Optional.ofNullable(props.getProperty("password"))
            .or(() -> env.get("PGPASSWORD"))
            .orElse(null);
    String database = props.getProperty("PGDBNAME", "");
    if (database.isBlank()) {
      database = env.get("PGDATABASE").orElse(user);
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    for (String key : props.stringPropertyNames()) {
      if (!List.of("PGHOST", "PGPORT", "PGDBNAME", "user", "password").contains(key)) {
        parameters.put(key, props.getProperty(key));
      }
    }
    parameters.putIfAbsent("ApplicationName", APPLICATION_NAME);
    return new DatabaseConfig(hosts, database, user, password, parameters, source);
  }

  /**
   * Turns a libpq URI ({@code postgresql://user:secret@host:5432/db?sslmode=require}) into JDBC.
   */
  private static String jdbcFromUri(String url, String source) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new ConfigException(source + " is not a valid URL: '" + redact(url) + "'");
    }
    if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
      throw new ConfigException(
          source + " must be a jdbc:postgresql:// or postgresql:// URL, was '" + redact(url) + "'");
    }
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://");
    jdbc.append(uri.getHost() == null ? DEFAULT_HOST : uri.getHost());
    if (uri.getPort() > 0) {
      jdbc.append(':').append(uri.getPort());
    }
    jdbc.append(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath());
    List<String> query = new ArrayList<>();
    if (uri.getRawQuery() != null) {
      query.add(uri.getRawQuery());
    }
    if (uri.getRawUserInfo() != null) {
      String[] info = uri.getRawUserInfo().split(":", 2);
      query.add("user=" + info[0]);
      if (info.length == 2) {
        query.add("password=" + info[1]);
      }
    }
    if (!query.isEmpty()) {
      jdbc.append('?').append(String.join("&", query));
    }
    return jdbc.toString();
  }

  /**
   * The same server and login, another database (e.g. the maintenance database {@code postgres}).
   */
  public DatabaseConfig withDatabase(String name) {
    return new DatabaseConfig(hosts, name, user, password, parameters, source);
  }

  /**
   * The same connection with one pgjdbc parameter set (replacing any value it had), e.g. {@code
   * targetServerType=preferSecondary} for a read that may go to a replica.
   */
  public DatabaseConfig withParameter(String name, String value) {
    Map<String, String> changed = new LinkedHashMap<>(parameters);
    changed.put(name, value);
    return new DatabaseConfig(hosts, database, user, password, changed, source);
  }

  /** A JDBC URL without user or password; pass those with {@link #connectionProperties()}. */
  public String jdbcUrl() {
    StringBuilder url = new StringBuilder("jdbc:postgresql://");
    url.append(hosts.stream().map(HostPort::toString).collect(Collectors.joining(",")));
    url.append('/').append(encode(database));
    char separator = '?';
    for (Map.Entry<String, String> p : new java.util.TreeMap<>(parameters).entrySet()) {
      url.append(separator).append(encode(p.getKey())).append('=').append(encode(p.getValue()));
      separator = '&';
    }
    return url.toString();
  }

  public Properties connectionProperties() {
    Properties props = new Properties();
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    return props;
  }

  /** A new connection outside any pool, e.g. for LISTEN or a one-off administrative statement. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), connectionProperties());
  }

  /** A connection pool; the caller closes it. Fails at once when the server cannot be reached. */
  public HikariDataSource pool(String poolName, int maximumSize) {
    return pool(poolName, maximumSize, config -> {});
  }

  /** As {@link #pool(String, int)}, letting the caller add to the pool's settings first. */
  public HikariDataSource pool(
      String poolName, int maximumSize, Consumer<HikariConfig> customizer) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl());
    config.setUsername(user);
    if (password != null) {
      config.setPassword(password);
    }
    config.setPoolName(poolName);
    config.setMaximumPoolSize(maximumSize);
    config.setMinimumIdle(Math.min(2, maximumSize));
    customizer.accept(config);
    return new HikariDataSource(config);
  }

  /** {@code user@host:port/database}, safe to print. */
  public String describe() {
    return user
        + "@"
        + hosts.stream().map(HostPort::toString).collect(Collectors.joining(","))
        + "/"
        + database;
  }

  @Override
  public String toString() {
    return "DatabaseConfig[" + describe() + " from " + source + "]";
  }

  private static List<String> split(String list) {
    return List.of(list.split("\\s*,\\s*"));
  }

  private static int parsePort(String source, String port) {
    try {
      return Integer.parseInt(port.strip());
    } catch (NumberFormatException e) {
      throw new ConfigException(source + " has a port that is not a number: '" + port + "'");
    }
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** The URL with any password replaced, so it can be quoted in a message. */
  static String redact(String url) {
    String noQueryPassword = url.replaceAll("(?i)(password=)[^&]*", "$1***");
    return noQueryPassword.replaceAll("(//[^:/@]+:)[^@/]*@", "$1***@");
  }
}
