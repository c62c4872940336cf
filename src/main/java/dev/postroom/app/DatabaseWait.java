package dev.postroom.app;

import dev.postroom.config.DatabaseConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits for PostgreSQL before a long-running dispatcher starts: in the middle of a failover the old
 * primary is gone and the replica not yet promoted, and a dispatcher started then must wait for the
 * new primary rather than exit. Only failures that another try can cure are waited out (the server
 * unreachable, starting up, in recovery, or no host of a multi-host URL is the primary yet); a
 * refused login or a missing database fails at once.
 */
public final class DatabaseWait {
  private static final Logger log = LoggerFactory.getLogger(DatabaseWait.class);

  public static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  public static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private DatabaseWait() {}

  /**
   * Returns once a connection opens (true), or when {@code stop} counts down first (false).
   *
   * @throws SQLException a failure that waiting cannot cure
   */
  public static boolean until(DatabaseConfig database, CountDownLatch stop, Duration maxBackoff)
      throws SQLException, InterruptedException {
    Duration backoff = FIRST_BACKOFF.compareTo(maxBackoff) < 0 ? FIRST_BACKOFF : maxBackoff;
    for (int tries = 1; ; tries++) {
      try (Connection c = database.connect()) {
        if (tries > 1) {
          log.info("PostgreSQL at {} is reachable after {} tries", database.describe(), tries);
        }
        return true;
      } catch (SQLException e) {
        if (!worthWaitingFor(e)) {
          throw e;
        }
        log.warn(
            "waiting for PostgreSQL at {}: {} (try {}, next in {} s)",
            database.describe(),
            e.getMessage(),
            tries,
            backoff.toSeconds());
      }
      if (stop.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
        return false;
      }
      backoff =
          backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
    }
  }

  /** Connection failures (08…) and "cannot connect now" (57P03: starting up, in recovery). */
  static boolean worthWaitingFor(SQLException e) {
    String state = e.getSQLState();
    return state == null || state.startsWith("08") || "57P03".equals(state);
  }
}
