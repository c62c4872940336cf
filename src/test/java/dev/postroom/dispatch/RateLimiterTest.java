package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    private Instant now = Instant.parse("2026-11-28T12:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @Test
  void allowsABurstOfOneSecondsWorthThenSpacesTransactions() throws InterruptedException {
    ManualClock clock = new ManualClock();
    RateLimiter limiter = new RateLimiter(120, clock); // 2 a second
    limiter.acquire();
    limiter.acquire();
    assertThat(limiter.delay()).isEqualTo(Duration.ofMillis(500));
    clock.advance(Duration.ofMillis(500));
    assertThat(limiter.delay()).isZero();
  }

  @Test
  void aSlowRateWaitsTheWholeInterval() throws InterruptedException {
    ManualClock clock = new ManualClock();
    RateLimiter limiter = new RateLimiter(6, clock); // one every 10 s
    limiter.acquire();
    assertThat(limiter.delay()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void refusesANonPositiveRate() {
    assertThatThrownBy(() -> new RateLimiter(0, Clock.systemUTC()))
        .hasMessageContaining("rate_per_minute")
        .hasMessageContaining("0");
  }
}
