package dev.postroom.cli;

import dev.postroom.app.LogFormat;
import picocli.CommandLine.Option;

/**
 * The options every command accepts. Setters write into the shared {@link CliContext} and ignore
 * the defaults picocli applies to commands where the option was not given, so {@code postroom --db
 * URL send …} and {@code postroom send --db URL …} mean the same.
 */
final class GlobalOptions {
  private final CliContext ctx;

  GlobalOptions(CliContext ctx) {
    this.ctx = ctx;
  }

  @Option(
      names = "--db",
      paramLabel = "URL",
      description =
          "PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DB?user=U) or postgresql:// URI."
              + " Default: POSTROOM_DB_URL, else PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD.")
  void db(String url) {
    if (url != null) {
      ctx.db = url;
    }
  }

  @Option(
      names = {"-v", "--verbose"},
      description = "Debug logging, and a stack trace with errors.")
  void verbose(boolean verbose) {
    if (verbose) {
      ctx.verbose = true;
    }
  }

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      description = "Log lines as text (default) or json, on standard error.")
  void logFormat(LogFormat format) {
    if (format != null) {
      ctx.logFormat = format;
    }
  }
}
