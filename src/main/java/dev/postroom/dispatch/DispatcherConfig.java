package dev.postroom.dispatch;

import java.time.Duration;
import java.util.Objects;

/**
 * How one dispatcher process behaves. Settings shared by all dispatchers (retry schedule, lease,
 * lifetime) live in the database ({@code mail.configure}); these are per process.
 *
 * @param name identifies this dispatcher in leases, the event log and log lines
 * @param concurrency mails in flight at once; a claim never takes more than the free capacity
 * @param batchSize most mails one claim statement takes
 * @param pollInterval how often to look for due mail when no notification arrives
 * @param shutdownGrace how long {@link Dispatcher#close()} lets in-flight mail finish
 */
public record DispatcherConfig(
    String name, int concurrency, int batchSize, Duration pollInterval, Duration shutdownGrace) {

  public static final int DEFAULT_CONCURRENCY = 64;
  public static final int DEFAULT_BATCH_SIZE = 100;
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);

  public DispatcherConfig {
    Objects.requireNonNull(name, "name");
    if (name.isBlank() || name.length() > 200) {
      throw new IllegalArgumentException(
          "dispatcher name must be 1-200 characters: '" + name + "'");
    }
    if (concurrency < 1 || concurrency > 10_000) {
      throw new IllegalArgumentException("concurrency must be 1-10000, was " + concurrency);
    }
    if (batchSize < 1 || batchSize > 10_000) {
      throw new IllegalArgumentException("batchSize must be 1-10000, was " + batchSize);
    }
    requirePositive("pollInterval", pollInterval);
    requirePositive("shutdownGrace", shutdownGrace);
  }

  public static DispatcherConfig defaults(String name) {
    return new DispatcherConfig(
        name,
        DEFAULT_CONCURRENCY,
        DEFAULT_BATCH_SIZE,
        DEFAULT_POLL_INTERVAL,
        DEFAULT_SHUTDOWN_GRACE);
  }

  public DispatcherConfig withConcurrency(int value) {
    return new DispatcherConfig(name, value, batchSize, pollInterval, shutdownGrace);
  }

  public DispatcherConfig withBatchSize(int value) {
    return new DispatcherConfig(name, concurrency, value, pollInterval, shutdownGrace);
  }

  public DispatcherConfig withPollInterval(Duration value) {
    return new DispatcherConfig(name, concurrency, batchSize, value, shutdownGrace);
  }

  public DispatcherConfig withShutdownGrace(Duration value) {
    return new DispatcherConfig(name, concurrency, batchSize, pollInterval, value);
  }

  private static void requirePositive(String key, Duration value) {
    Objects.requireNonNull(value, key);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(key + " must be positive, was " + value);
    }
  }
}
