package dev.postroom.web;

import dev.postroom.config.ConfigException;
import dev.postroom.config.DatabaseConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * How the status page runs.
 *
 * @param address where it listens (loopback by default)
 * @param database the server and database visitors log in to; its user and password are not used
 * @param sessionTimeout how long a session lives without a request
 */
public record WebConfig(
    InetSocketAddress address, DatabaseConfig database, Duration sessionTimeout) {
  public static final int DEFAULT_PORT = 8080;
  public static final String DEFAULT_BIND = "127.0.0.1";
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofMinutes(30);

  public WebConfig {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(database, "database");
    if (sessionTimeout == null || sessionTimeout.isNegative() || sessionTimeout.isZero()) {
      throw new ConfigException("--session-timeout must be positive, was " + sessionTimeout);
    }
  }
}
