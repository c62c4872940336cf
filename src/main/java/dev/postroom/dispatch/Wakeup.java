package dev.postroom.dispatch;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the claim loop: on a {@code NOTIFY mail_queued} received on a dedicated connection, when a
 * delivery frees capacity, or when the poll interval runs out. Notifications are only hints;
 * polling alone guarantees progress, so a lost LISTEN connection costs latency, not mail.
 */
final class Wakeup implements AutoCloseable {
  static final String CHANNEL = "mail_queued";
  private static final Logger log = LoggerFactory.getLogger(Wakeup.class);
  private static final int LISTEN_WAIT_MS = 500;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition signalled = lock.newCondition();
  private boolean pending;
  private volatile boolean closed;
  private volatile boolean listening;
  private Thread listener;

  /** Starts listening on connections from {@code factory}, reconnecting as needed. */
  void listen(ConnectionFactory factory, String dispatcher) {
    listener =
        Thread.ofPlatform()
            .name("postroom-listen-" + dispatcher)
            .daemon()
            .start(() -> listenLoop(factory, dispatcher));
  }

  boolean isListening() {
    return listening;
  }

  private void listenLoop(ConnectionFactory factory, String dispatcher) {
    long backoff = 100;
    while (!closed) {
      try (Connection c = factory.open();
          Statement st = c.createStatement()) {
        st.execute("LISTEN " + CHANNEL);
        PGConnection pg = c.unwrap(PGConnection.class);
        listening = true;
        backoff = 100;
        signal();
        while (!closed) {
          PGNotification[] notes = pg.getNotifications(LISTEN_WAIT_MS);
          if (notes != null && notes.length > 0) {
            signal();
          }
        }
      } catch (Exception e) {
        listening = false;
        if (closed) {
          return;
        }
        log.warn(
            "dispatcher {}: LISTEN connection lost ({}); polling until it is back",
            dispatcher,
            DatabaseRetry.rootMessage(e));
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          return;
        }
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
    listening = false;
  }

  void signal() {
    lock.lock();
    try {
      pending = true;
      signalled.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits for a signal or the timeout, whichever comes first, and consumes the signal. */
  void await(Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long nanos = timeout.toNanos();
      while (!pending && nanos > 0 && !closed) {
        nanos = signalled.awaitNanos(nanos);
      }
      pending = false;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    closed = true;
    signal();
    if (listener != null) {
      try {
        listener.join(TimeUnit.SECONDS.toMillis(2));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
