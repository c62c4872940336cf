package dev.postroom.smtp;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reusable sessions to one endpoint, at most {@code maxConnections} open or in use at once.
 *
 * <p>A session is handed out only if it is still good: never one that saw a 421, a timeout or a
 * protocol error; never one with bytes waiting that nobody asked for (an asynchronous 421 or a
 * desynchronised server, research C10); never one older than {@code maxAge}; and one idle longer
 * than {@code maxIdle} is closed rather than probed, since servers drop idle sessions silently.
 * Sessions idle for more than a second get an RSET probe first. Idle sessions are also closed (with
 * QUIT) as soon as they have been idle for {@code maxIdle}, by a shared timer, so that no session
 * holds a server process until the server's own timeout.
 *
 * <p>A {@link SessionGate} may stand before every new session (limits shared with other processes);
 * what it admits is closed when that session is closed.
 */
public final class SmtpPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpPool.class);
  static final Duration PROBE_AFTER = Duration.ofSeconds(1);
  private static final ScheduledThreadPoolExecutor SWEEPER = sweeper();

  private final SmtpEndpoint endpoint;
  private final SmtpSettings settings;
  private final Duration maxIdle;
  private final Duration maxAge;
  private final Clock clock;
  private final Semaphore permits;
  private final Deque<Idle> idle = new ArrayDeque<>();
  private final Map<SmtpConnection, Instant> openedAt = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private final AtomicBoolean sweepScheduled = new AtomicBoolean();

  private final SessionGate gate;
  private final Map<SmtpConnection, SessionGate.Admission> admitted = new ConcurrentHashMap<>();

  private record Idle(SmtpConnection connection, Instant since) {}

  /** Decides whether a new session may be opened. */
  @FunctionalInterface
  public interface SessionGate {
    /** Lets every session open. */
    SessionGate NONE = () -> () -> {};

    /**
     * Admits one new session, returning what to close when it closes.
     *
     * @throws SmtpException to refuse the session (nothing is opened)
     */
    Admission admit() throws InterruptedException;

    /** One admitted session; closed once, when the session closes or could not be opened. */
    interface Admission extends AutoCloseable {
      /** The session could not be opened (refused, greeting, TLS…); called before close. */
      default void openFailed(SmtpException e) {}

      @Override
      void close();
    }
  }

  public SmtpPool(
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      int maxConnections,
      Duration maxIdle,
      Duration maxAge) {
    this(endpoint, settings, maxConnections, maxIdle, maxAge, Clock.systemUTC(), SessionGate.NONE);
  }

  public SmtpPool(
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      int maxConnections,
      Duration maxIdle,
      Duration maxAge,
      SessionGate gate) {
    this(endpoint, settings, maxConnections, maxIdle, maxAge, Clock.systemUTC(), gate);
  }

  SmtpPool(
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      int maxConnections,
      Duration maxIdle,
      Duration maxAge,
      Clock clock) {
    this(endpoint, settings, maxConnections, maxIdle, maxAge, clock, SessionGate.NONE);
  }

  SmtpPool(
      SmtpEndpoint endpoint,
      SmtpSettings settings,
      int maxConnections,
      Duration maxIdle,
      Duration maxAge,
      Clock clock,
      SessionGate gate) {
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
    this.gate = gate;
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
      SessionGate.Admission ticket = gate.admit();
      SmtpConnection fresh;
      try {
        fresh = SmtpConnection.open(endpoint, settings);
      } catch (SmtpException e) {
        try {
          ticket.openFailed(e);
        } finally {
          closeQuietly(ticket);
        }
        throw e;
      } catch (RuntimeException e) {
        closeQuietly(ticket);
        throw e;
      }
      openedAt.put(fresh, clock.instant());
      admitted.put(fresh, ticket);
      return fresh;
    } catch (RuntimeException | InterruptedException e) {
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
      scheduleSweep();
    } finally {
      permits.release();
    }
  }

  /** Makes sure one sweep is pending for when the oldest idle session reaches {@code maxIdle}. */
  private void scheduleSweep() {
    if (closed || !sweepScheduled.compareAndSet(false, true)) {
      return;
    }
    Instant oldest;
    synchronized (idle) {
      Idle last = idle.peekLast();
      oldest = last == null ? null : last.since();
    }
    if (oldest == null) {
      sweepScheduled.set(false);
      return;
    }
    long delay =
        Math.max(10, Duration.between(clock.instant(), oldest.plus(maxIdle)).toMillis() + 1);
    SWEEPER.schedule(
        () -> Thread.ofVirtual().name("postroom-smtp-idle-close").start(this::sweep),
        delay,
        TimeUnit.MILLISECONDS);
  }

  private void sweep() {
    try {
      int n = closeIdle(maxIdle);
      if (n > 0) {
        LOG.debug("closed {} session(s) to {} idle for more than {}", n, endpoint, maxIdle);
      }
    } finally {
      sweepScheduled.set(false);
      scheduleSweep();
    }
  }

  private static ScheduledThreadPoolExecutor sweeper() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "postroom-smtp-idle-timer");
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    return executor;
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
    try {
      c.close();
    } finally {
      SessionGate.Admission ticket = admitted.remove(c);
      if (ticket != null) {
        closeQuietly(ticket);
      }
    }
  }

  private void closeQuietly(SessionGate.Admission ticket) {
    try {
      ticket.close();
    } catch (RuntimeException e) {
      LOG.warn("giving back the admission of a session to {} failed: {}", endpoint, e.toString());
    }
  }

  /** When a session of this pool was opened (null if it is not one of this pool's). */
  public Instant openedAt(SmtpConnection connection) {
    return openedAt.get(connection);
  }

  /** Closes the sessions that have been idle for longer than {@code idleFor}; returns how many. */
  public int closeIdle(Duration idleFor) {
    List<SmtpConnection> stale = new ArrayList<>();
    Instant now = clock.instant();
    synchronized (idle) {
      idle.removeIf(i -> {
        boolean old = Duration.between(i.since(), now).compareTo(idleFor) > 0;
        if (old) {
          stale.add(i.connection());
        }
        return old;
      });
    }
    stale.forEach(this::discard);
    return stale.size();
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
