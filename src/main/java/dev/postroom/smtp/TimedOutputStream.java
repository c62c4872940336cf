package dev.postroom.smtp;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Socket writes with a deadline: Java socket writes block without limit, so a watchdog closes the
 * socket when one write outlives its timeout (RFC 5321 §4.5.3.2.5 data block timer).
 */
final class TimedOutputStream extends OutputStream {
  private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

  private final OutputStream delegate;
  private final Socket socket;
  private volatile boolean expired;
  private long timeoutNanos = Duration.ofMinutes(5).toNanos();

  TimedOutputStream(OutputStream delegate, Socket socket) {
    this.delegate = delegate;
    this.socket = socket;
  }

  void timeout(Duration value) {
    timeoutNanos = value.toNanos();
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    ScheduledFuture<?> alarm = WATCHDOG.schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
    try {
      delegate.write(b, off, len);
    } catch (IOException e) {
      throw expired ? timeoutFrom(e) : e;
    } finally {
      alarm.cancel(false);
    }
  }

  @Override
  public void flush() throws IOException {
    try {
      delegate.flush();
    } catch (IOException e) {
      throw expired ? timeoutFrom(e) : e;
    }
  }

  private void expire() {
    expired = true;
    try {
      socket.close();
    } catch (IOException ignored) {
      // the socket is being abandoned
    }
  }

  private static SocketTimeoutException timeoutFrom(IOException cause) {
    SocketTimeoutException e = new SocketTimeoutException("write not complete before its deadline");
    e.initCause(cause);
    return e;
  }

  /** Runs {@code action} with the socket closed by the watchdog if it outlives {@code timeout}. */
  static <T> T withDeadline(Socket socket, Duration timeout, IoCall<T> action) throws IOException {
    java.util.concurrent.atomic.AtomicBoolean fired =
        new java.util.concurrent.atomic.AtomicBoolean();
    ScheduledFuture<?> alarm =
        WATCHDOG.schedule(
            () -> {
              fired.set(true);
              try {
                socket.close();
              } catch (IOException ignored) {
                // abandoned
              }
            },
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
    try {
      return action.call();
    } catch (IOException e) {
      throw fired.get() ? timeoutFrom(e) : e;
    } finally {
      alarm.cancel(false);
    }
  }

  interface IoCall<T> {
    T call() throws IOException;
  }

  private static ScheduledThreadPoolExecutor watchdog() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "postroom-smtp-watchdog");
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }
}
