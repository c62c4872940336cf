package dev.postroom.app;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges read from the queue itself, so they agree across any number of dispatchers: {@code
 * postroom.queue.depth{status}} for the unfinished statuses, {@code postroom.queue.due} and {@code
 * postroom.queue.oldest.due.age}. A background task refreshes them with one cheap query (it reads
 * only the partial indexes on unfinished mail); a scrape never touches the database.
 */
public final class QueueGauges implements AutoCloseable {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  static final List<String> STATUSES = List.of("queued", "retrying", "sending");
  private static final Logger log = LoggerFactory.getLogger(QueueGauges.class);

  private static final String QUERY =
      """
      SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
             count(*) FILTER (WHERE status = 'retrying') AS retrying,
             count(*) FILTER (WHERE status = 'sending') AS sending,
             count(*) FILTER (WHERE status IN ('queued', 'retrying')
                                AND next_attempt_at <= now()) AS due,
             coalesce(extract(epoch FROM now() - greatest(min(next_attempt_at)
                       FILTER (WHERE status IN ('queued', 'retrying')
                                 AND next_attempt_at <= now()),
                       timestamptz '0001-01-01 00:00+00')), 0) AS oldest_due_seconds
        FROM mail.outbox
       WHERE status IN ('queued', 'retrying', 'sending')
      """;

  private final DataSource dataSource;
  private final Map<String, AtomicLong> depth = new ConcurrentHashMap<>();
  private final AtomicLong due = new AtomicLong();
  private final AtomicLong oldestDueMillis = new AtomicLong();
  private final ScheduledExecutorService scheduler;
  private volatile boolean warned;
  private volatile QueueSnapshot latest = new QueueSnapshot(0, 0, 0, 0, Duration.ZERO);

  /** Registers the gauges and refreshes them every {@code interval}, first at once. */
  public QueueGauges(DataSource dataSource, MeterRegistry registry, Duration interval) {
    this.dataSource = dataSource;
    for (String status : STATUSES) {
      AtomicLong value = new AtomicLong();
      depth.put(status, value);
      Gauge.builder("postroom.queue.depth", value, AtomicLong::get)
          .description("Unfinished mails by status")
          .tag("status", status)
          .register(registry);
    }
    Gauge.builder("postroom.queue.due", due, AtomicLong::get)
        .description("Mails whose time has come and that no dispatcher holds")
        .register(registry);
    TimeGauge.builder(
            "postroom.queue.oldest.due.age",
            oldestDueMillis,
            TimeUnit.MILLISECONDS,
            AtomicLong::get)
        .description("How long the oldest due mail has been waiting")
        .register(registry);
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("postroom-queue-gauges").daemon().unstarted(r));
    scheduler.scheduleWithFixedDelay(
        this::refreshQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Reads the queue once; also what the background task does. */
  public QueueSnapshot refresh() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(QUERY)) {
      rs.next();
      QueueSnapshot snapshot =
          new QueueSnapshot(
              rs.getLong("queued"),
              rs.getLong("retrying"),
              rs.getLong("sending"),
              rs.getLong("due"),
              Duration.ofMillis(Math.round(rs.getDouble("oldest_due_seconds") * 1000)));
      depth.get("queued").set(snapshot.queued());
      depth.get("retrying").set(snapshot.retrying());
      depth.get("sending").set(snapshot.sending());
      due.set(snapshot.due());
      oldestDueMillis.set(snapshot.oldestDueAge().toMillis());
      latest = snapshot;
      return snapshot;
    }
  }

  /** The last snapshot the background task read (all zero before the first). */
  public QueueSnapshot latest() {
    return latest;
  }

  private void refreshQuietly() {
    try {
      refresh();
      warned = false;
    } catch (SQLException | RuntimeException e) {
      if (!warned) {
        log.warn("cannot read the queue for its gauges: {}", e.getMessage());
        warned = true;
      }
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }

  /** The unfinished part of the queue at one moment. */
  public record QueueSnapshot(
      long queued, long retrying, long sending, long due, Duration oldestDueAge) {
    /** Mails not yet finished: queued, retrying or being sent. */
    public long unfinished() {
      return queued + retrying + sending;
    }
  }
}
