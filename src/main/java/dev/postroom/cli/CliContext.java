package dev.postroom.cli;

import ch.qos.logback.classic.Level;
import dev.postroom.app.LogFormat;
import dev.postroom.app.Logging;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.config.Environment;
import java.io.PrintStream;

/**
 * What every command shares during one invocation: the output streams, the environment, and the
 * global options ({@code --db}, {@code --verbose}, {@code --log-format}), which may be given before
 * or after the command name.
 */
final class CliContext {
  final PrintStream out;
  final PrintStream err;
  final Environment env;
  String db;
  boolean verbose;
  LogFormat logFormat = LogFormat.TEXT;
  private Logging logging;

  CliContext(PrintStream out, PrintStream err, Environment env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  DatabaseConfig database() {
    return DatabaseConfig.resolve(db, env);
  }

  /** Applies the logging options; called once the command line is parsed. */
  Logging logging() {
    if (logging == null) {
      logging = Logging.configure(logFormat, verbose ? Level.DEBUG : Level.INFO, err);
    }
    return logging;
  }

  void closeLogging() {
    if (logging != null) {
      logging.close();
      logging = null;
    }
  }
}
