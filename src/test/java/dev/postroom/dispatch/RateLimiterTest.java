package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.testing.ManualClock;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
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
