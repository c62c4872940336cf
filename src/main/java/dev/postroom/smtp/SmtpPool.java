package dev.postroom.smtp;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reusable sessions to one endpoint, at most {@code maxConnections} open or in use at once.
 *
 * <p>A session is handed out only if it is still good: never one that saw a 421, a timeout or a
 * protocol error; never one with bytes waiting that nobody asked for (an asynchronous 421 or a
 * desynchronised server, research C10); never one older than {@code maxAge}; and one idle longer
 * than {@code maxIdle} is closed rather than probed, since servers drop idle sessions silently.
 * Sessions idle for more than a second get an RSET probe first.
 */
public final class SmtpPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpPool.class);
  static final Duration PROBE_AFTER = Duration.ofSeconds(1);

  private final SmtpEndpoint endpoint;
  private final SmtpSettings settings;
  private final Duration maxIdle;
  private final Duration maxAge;
  private final Clock clock;
  private final Semaphore permits;
  private final Deque<Idle> idle = new ArrayDeque<>();
  private final Map<SmtpConnection, Instant> openedAt = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private record Idle(SmtpConnection connection, Instant since) {}

  public SmtpPool(
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      int maxConnections,
      Duration maxIdle,
      Duration maxAge) {
    this(endpoint, settings, maxConnections, maxIdle, maxAge, Clock.systemUTC());
  }

  SmtpPool(
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      int maxConnections,
      Duration maxIdle,
      Duration maxAge,
      Clock clock) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException(
          "maxConnections must be at least 1, was " + maxConnections);
    }
    this.endpoint = endpoint;
    this.settings = settings;
    this.maxIdle = maxIdle;
    this.maxAge = maxAge;
    this.clock = clock;
    this.permits = new Semaphore(maxConnections, true);
  }

  /**
   * A ready session: a checked idle one, else a new one.
   *
   * @throws SmtpException when no session can be opened, or none is free within {@code wait}
   */
  public SmtpConnection borrow(Duration wait) throws InterruptedException {
    if (closed) {
      throw new IllegalStateException("pool for " + endpoint + " is closed");
    }
    if (!permits.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new SmtpException(
          SmtpException.Kind.TIMEOUT,
          Stage.CONNECT,
          Reply.local(451, "4.4.5", "no free connection to " + endpoint + " within " + wait),
          true,
          "connection pool exhausted");
    }
    try {
      SmtpConnection reused = takeIdle();
      if (reused != null) {
        return reused;
      }
      SmtpConnection fresh = SmtpConnection.open(endpoint, settings);
      openedAt.put(fresh, clock.instant());
      return fresh;
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  /** Gives a session back; it is closed if it is not reusable or too old. */
  public void release(SmtpConnection connection) {
    try {
      Instant opened = openedAt.get(connection);
      boolean tooOld = opened == null || !clock.instant().isBefore(opened.plus(maxAge));
      if (closed || !connection.isReusable() || tooOld) {
        discard(connection);
        return;
      }
      synchronized (idle) {
        idle.push(new Idle(connection, clock.instant()));
      }
    } finally {
      permits.release();
    }
  }

  private SmtpConnection takeIdle() {
    while (true) {
      Idle candidate;
      synchronized (idle) {
        candidate = idle.poll();
      }
      if (candidate == null) {
        return null;
      }
      SmtpConnection c = candidate.connection();
      Duration idleFor = Duration.between(candidate.since(), clock.instant());
      if (idleFor.compareTo(maxIdle) > 0 || !c.isReusable() || c.hasPendingInput()) {
        discard(c);
        continue;
      }
      if (idleFor.compareTo(PROBE_AFTER) > 0) {
        try {
          if (!c.rset().isPositive()) {
            discard(c);
            continue;
          }
        } catch (SmtpException e) {
          LOG.debug("pooled session to {} failed its probe: {}", endpoint, e.getMessage());
          discard(c);
          continue;
        }
      }
      return c;
    }
  }

  private void discard(SmtpConnection c) {
    openedAt.remove(c);
    c.close();
  }

  /** Closes idle sessions; sessions in use are closed when they are released. */
  @Override
  public void close() {
    closed = true;
    while (true) {
      Idle i;
      synchronized (idle) {
        i = idle.poll();
      }
      if (i == null) {
        return;
      }
      discard(i.connection());
    }
  }
}
