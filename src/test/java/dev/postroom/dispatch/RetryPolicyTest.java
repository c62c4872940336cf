package dev.postroom.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postroom.dispatch.RetryPolicy.Decision;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private static final List<Duration> SCHEDULE =
      List.of(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15));

  private static RetryPolicy policy(Integer maxAttempts) {
    return new RetryPolicy(SCHEDULE, maxAttempts, 0.15, new SplittableRandom(42));
  }

  private static Duration waitAfter(RetryPolicy policy, int attempts) {
    Decision d = policy.next(attempts, NOW, null, null);
    assertThat(d).isInstanceOf(Decision.RetryAt.class);
    return Duration.between(NOW, ((Decision.RetryAt) d).when());
  }

  @Test
  void eachRetryWaitsItsStepOfTheScheduleWithinTheJitter() {
    RetryPolicy p = policy(null);
    assertThat(waitAfter(p, 1)).isBetween(Duration.ofSeconds(51), Duration.ofSeconds(69));
    assertThat(waitAfter(p, 2)).isBetween(Duration.ofSeconds(255), Duration.ofSeconds(345));
    assertThat(waitAfter(p, 3)).isBetween(Duration.ofSeconds(765), Duration.ofSeconds(1035));
  }

  @Test
  void theLastStepRepeats() {
    RetryPolicy p = policy(null);
    assertThat(waitAfter(p, 10)).isBetween(Duration.ofSeconds(765), Duration.ofSeconds(1035));
  }

  @Test
  void jitterSpreadsMailsDeferredTogether() {
    RetryPolicy p = policy(null);
    long distinct =
        java.util.stream.IntStream.range(0, 50).mapToObj(i -> waitAfter(p, 1)).distinct().count();
    assertThat(distinct).isGreaterThan(40);
  }

  @Test
  void aServerHintIsBelievedWithSlack() {
    Decision d =
        policy(null).next(1, NOW, null, "4.7.0 Greylisted, please try again in 90 seconds");
    assertThat(d).isEqualTo(new Decision.RetryAt(NOW.plusSeconds(99)));
    assertThat(RetryPolicy.serverHint("Rate limited; retry after 2 minutes"))
        .contains(Duration.ofSeconds(132));
    assertThat(RetryPolicy.serverHint("mailbox busy")).isEmpty();
  }

  @Test
  void givesUpWhenTheNextTryWouldFallAfterExpiry() {
    Decision d = policy(null).next(1, NOW, NOW.plusSeconds(30), "451 try later");
    assertThat(d).isEqualTo(new Decision.GiveUp(RetryPolicy.Reason.EXPIRED));
  }

  @Test
  void givesUpAfterMaxAttempts() {
    assertThat(policy(3).next(2, NOW, null, null)).isInstanceOf(Decision.RetryAt.class);
    assertThat(policy(3).next(3, NOW, null, null))
        .isEqualTo(new Decision.GiveUp(RetryPolicy.Reason.MAX_ATTEMPTS));
  }

  @Test
  void refusesAnEmptyScheduleOrNonPositiveSteps() {
    assertThatThrownBy(() -> new RetryPolicy(List.of(), null, 0.1, new SplittableRandom()))
        .hasMessageContaining("retry_schedule");
    assertThatThrownBy(
            () -> new RetryPolicy(List.of(Duration.ZERO), null, 0.1, new SplittableRandom()))
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> policy(0)).hasMessageContaining("max_attempts");
  }
}
