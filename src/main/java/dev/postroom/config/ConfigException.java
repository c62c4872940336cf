package dev.postroom.config;

/**
 * A setting that cannot work as given, e.g. a malformed JDBC URL or a non-numeric {@code PGPORT}.
 * The message names the setting and its value (never a password) and says what is expected.
 */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
