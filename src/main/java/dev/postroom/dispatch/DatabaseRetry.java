package dev.postroom.dispatch;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repeats a database call while the database is unreachable, so that a result already obtained from
 * an SMTP server is not lost to a restart or a network blip. Errors that are not about the
 * connection are thrown at once.
 */
final class DatabaseRetry {
  private static final Logger log = LoggerFactory.getLogger(DatabaseRetry.class);
  private static final Duration FIRST_PAUSE = Duration.ofMillis(100);
  private static final Duration MAX_PAUSE = Duration.ofSeconds(5);

  private DatabaseRetry() {}

  static <T> T until(Instant deadline, Clock clock, String what, Supplier<T> call)
      throws InterruptedException {
    Duration pause = FIRST_PAUSE;
    while (true) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        if (!isConnectionProblem(e) || !clock.instant().plus(pause).isBefore(deadline)) {
          throw e;
        }
        log.warn(
            "database unreachable while {}; retrying in {} ms: {}",
            what,
            pause.toMillis(),
            rootMessage(e));
        Thread.sleep(pause.toMillis());
        pause = pause.multipliedBy(2).compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : pause.multipliedBy(2);
      }
    }
  }

  static boolean isConnectionProblem(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        if (state.startsWith("08") || state.startsWith("57P")) {
          return true;
        }
      }
      if (t instanceof java.io.IOException) {
        return true;
      }
    }
    return false;
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
