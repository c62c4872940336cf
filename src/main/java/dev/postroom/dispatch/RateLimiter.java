package dev.postroom.dispatch;

import java.time.Clock;
import java.time.Duration;

/**
 * Spaces SMTP transactions of one account to at most {@code perMinute} a minute in this process,
 * with a burst of up to a second's worth. The limit counts transactions started.
 */
final class RateLimiter {
  private final Clock clock;
  private final double perMilli;
  private final double burst;
  private double tokens;
  private long lastRefill;

  RateLimiter(int perMinute, Clock clock) {
    if (perMinute < 1) {
      throw new IllegalArgumentException("rate_per_minute must be at least 1, was " + perMinute);
    }
    this.clock = clock;
    this.perMilli = perMinute / 60_000.0;
    this.burst = Math.max(1, perMinute / 60.0);
    this.tokens = burst;
    this.lastRefill = clock.millis();
  }

  /** Blocks until a transaction may start. */
  void acquire() throws InterruptedException {
    while (true) {
      long wait;
      synchronized (this) {
        refill();
        if (tokens >= 1) {
          tokens -= 1;
          return;
        }
        wait = (long) Math.ceil((1 - tokens) / perMilli);
      }
      Thread.sleep(Math.max(1, wait));
    }
  }

  /** How long a caller would wait now (for tests and metrics). */
  synchronized Duration delay() {
    refill();
    return tokens >= 1
        ? Duration.ZERO
        : Duration.ofMillis((long) Math.ceil((1 - tokens) / perMilli));
  }

  private void refill() {
    long now = clock.millis();
    tokens = Math.min(burst, tokens + (now - lastRefill) * perMilli);
    lastRefill = now;
  }
}
