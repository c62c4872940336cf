package dev.postroom.cli;

import dev.postroom.app.QueueGauges;
import dev.postroom.dispatch.DispatchCounts;
import dev.postroom.dispatch.Dispatcher;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports a running dispatcher's progress every few seconds: delivered, deferred and failed
 * recipients so far, the delivery rate since the last report, and the mails left in the queue. On a
 * terminal it prints a line to standard output; otherwise it writes an INFO log line, and only when
 * something changed.
 */
final class ProgressReporter implements AutoCloseable {
  static final Duration TERMINAL_INTERVAL = Duration.ofSeconds(2);
  static final Duration LOG_INTERVAL = Duration.ofSeconds(10);
  private static final Logger log = LoggerFactory.getLogger(ProgressReporter.class);

  private final Dispatcher dispatcher;
  private final QueueGauges queue;
  private final PrintStream terminal;
  private final ScheduledExecutorService scheduler;
  private final long startNanos = System.nanoTime();
  private DispatchCounts last = new DispatchCounts(0, 0, 0);
  private long lastNanos = startNanos;

  /** Starts reporting; {@code terminal} null means log lines. */
  ProgressReporter(Dispatcher dispatcher, QueueGauges queue, PrintStream terminal) {
    this.dispatcher = dispatcher;
    this.queue = queue;
    this.terminal = terminal;
    Duration every = terminal != null ? TERMINAL_INTERVAL : LOG_INTERVAL;
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("postroom-progress").daemon().unstarted(r));
    scheduler.scheduleAtFixedRate(
        this::report, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized void report() {
    DispatchCounts now = dispatcher.counts();
    long nanos = System.nanoTime();
    if (terminal == null && now.equals(last)) {
      return;
    }
    double seconds = Math.max(1e-3, (nanos - lastNanos) / 1e9);
    String line = line(now, (now.delivered() - last.delivered()) / seconds, left());
    last = now;
    lastNanos = nanos;
    if (terminal != null) {
      terminal.println(line);
    } else {
      log.info("progress: {}", line);
    }
  }

  private long left() {
    return queue.latest().unfinished();
  }

  static String line(DispatchCounts counts, double ratePerSecond, long left) {
    return String.format(
        Locale.ROOT,
        "delivered %d, deferred %d, failed %d, %.1f/s, %d left in queue",
        counts.delivered(),
        counts.deferred(),
        counts.failed(),
        ratePerSecond,
        left);
  }

  /** The final line: totals and the average rate over the whole run. */
  synchronized String summary() {
    DispatchCounts counts = dispatcher.counts();
    double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
    return String.format(
        Locale.ROOT,
        "delivered %d, deferred %d, failed %d in %.1f s (%.1f/s)",
        counts.delivered(),
        counts.deferred(),
        counts.failed(),
        seconds,
        counts.delivered() / seconds);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
