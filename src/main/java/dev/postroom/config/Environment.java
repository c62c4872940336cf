package dev.postroom.config;

import java.io.Console;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the process learns from its surroundings: environment variables, the operating-system user
 * and whether standard output is a terminal. Tests pass their own instead of {@link #system()}.
 *
 * @param variables environment variables, by name
 * @param osUser the login name, libpq's default PostgreSQL user
 * @param terminal whether standard output is an interactive terminal
 */
public record Environment(Map<String, String> variables, String osUser, boolean terminal) {

  public Environment {
    variables = Map.copyOf(Objects.requireNonNull(variables, "variables"));
    Objects.requireNonNull(osUser, "osUser");
  }

  public static Environment system() {
    return new Environment(
        System.getenv(), System.getProperty("user.name", "postgres"), isTerminal(System.console()));
  }

  /**
   * Before JDK 22 a console exists only on a terminal; since then it exists whenever the JVM has
   * one, and {@code Console.isTerminal()} (absent from the Java 21 API we compile against) tells.
   */
  static boolean isTerminal(Console console) {
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  /** An environment with only the given variables, not a terminal; for tests and embedding. */
  public static Environment of(Map<String, String> variables, String osUser) {
    return new Environment(variables, osUser, false);
  }

  /** A variable's value, empty when unset or blank (libpq treats an empty value as unset). */
  public Optional<String> get(String name) {
    String value = variables.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
  }
}
