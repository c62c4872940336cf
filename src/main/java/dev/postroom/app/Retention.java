package dev.postroom.app;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes finished mails and event-log rows older than the {@code retention} setting, through
 * {@code mail.purge} and {@code mail.purge_log}, one hour of history per transaction. However many
 * dispatchers run, one of them purges at most once an hour: a transaction-scoped advisory lock
 * guards the check of the last {@value #EVENT} event and the writing of the next.
 */
public final class Retention implements AutoCloseable {
  public static final String EVENT = "retention_purge";
  public static final Duration EVERY = Duration.ofHours(1);
  public static final Duration FIRST_AFTER = Duration.ofMinutes(1);
  static final Duration WINDOW = Duration.ofHours(1);

  /** The advisory lock key: "postroom" in ASCII, so other applications are unlikely to use it. */
  static final long LOCK_KEY = 0x706f7374726f6f6dL;

  private static final Logger log = LoggerFactory.getLogger(Retention.class);

  private final DataSource dataSource;
  private final String dispatcher;
  private ScheduledExecutorService scheduler;

  public Retention(DataSource dataSource, String dispatcher) {
    this.dataSource = dataSource;
    this.dispatcher = dispatcher;
  }

  /** What one purge removed. */
  public record Purged(long mails, long events) {}

  /** Runs {@link #runOnce()} every {@link #EVERY}, first after {@link #FIRST_AFTER}. */
  public synchronized Retention schedule() {
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("postroom-retention").daemon().unstarted(r));
    scheduler.scheduleWithFixedDelay(
        this::runQuietly, FIRST_AFTER.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Purges if no dispatcher did within the last hour; empty when another one did. */
  public Optional<Purged> runOnce() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      Instant cutoff = claim(c);
      if (cutoff == null) {
        return Optional.empty();
      }
      Purged purged = purge(c, cutoff);
      if (purged.mails() + purged.events() > 0) {
        log.info(
            "retention: purged {} mails and {} event log rows from before {}",
            purged.mails(),
            purged.events(),
            cutoff);
      }
      return Optional.of(purged);
    }
  }

  /** Records this hour's purge and returns the cutoff, or null when it is not this one's turn. */
  private Instant claim(Connection c) throws SQLException {
    c.setAutoCommit(false);
    try (PreparedStatement st =
        c.prepareStatement(
            """
            SELECT pg_try_advisory_xact_lock(?) AS locked,
                   (SELECT max(logged_at) FROM mail.event_log WHERE event = ?)
                     > now() - make_interval(secs => ?) AS recent,
                   now() - mail.setting('retention')::interval AS cutoff
            """)) {
      st.setLong(1, LOCK_KEY);
      st.setString(2, EVENT);
      st.setLong(3, EVERY.toSeconds());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        if (!rs.getBoolean("locked") || rs.getBoolean("recent")) {
          c.rollback();
          return null;
        }
        Instant cutoff = rs.getTimestamp("cutoff").toInstant();
        try (PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO mail.event_log (event, dispatcher, reply_text) VALUES (?, ?, ?)")) {
          insert.setString(1, EVENT);
          insert.setString(2, dispatcher);
          insert.setString(3, "purging mails and events from before " + cutoff);
          insert.executeUpdate();
        }
        c.commit();
        return cutoff;
      }
    } finally {
      c.setAutoCommit(true);
    }
  }

  private static Purged purge(Connection c, Instant cutoff) throws SQLException {
    Instant oldest;
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT least((SELECT min(created_at) FROM mail.outbox),"
                    + " (SELECT min(logged_at) FROM mail.event_log))")) {
      rs.next();
      Timestamp t = rs.getTimestamp(1);
      if (t == null) {
        return new Purged(0, 0);
      }
      oldest = t.toInstant();
    }
    long mails = 0;
    long events = 0;
    try (PreparedStatement mailPurge = c.prepareStatement("SELECT mail.purge(?)");
        PreparedStatement logPurge = c.prepareStatement("SELECT mail.purge_log(?)")) {
      for (Instant before = oldest.plus(WINDOW); ; before = before.plus(WINDOW)) {
        Instant upTo = before.isAfter(cutoff) ? cutoff : before;
        mails += single(mailPurge, upTo);
        events += single(logPurge, upTo);
        if (!upTo.isBefore(cutoff)) {
          return new Purged(mails, events);
        }
      }
    }
  }

  private static long single(PreparedStatement st, Instant before) throws SQLException {
    st.setTimestamp(1, Timestamp.from(before));
    try (ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void runQuietly() {
    try {
      runOnce();
    } catch (SQLException | RuntimeException e) {
      log.warn("retention purge failed, trying again in {}: {}", EVERY, e.getMessage());
    }
  }

  @Override
  public synchronized void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }
}
