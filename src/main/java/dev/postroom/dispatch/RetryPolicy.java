package dev.postroom.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When to try a deferred mail again, or that it is time to give up.
 *
 * <p>The n-th retry waits the n-th step of the schedule (the last step repeats), spread by a random
 * ±{@code jitter} so that mails deferred together do not return together. A server that says when
 * to come back ("try again in 90 seconds") is believed, plus a little slack. A mail gives up when
 * it has used {@code maxAttempts}, or when its next try would fall after its expiry time.
 */
public final class RetryPolicy {
  public static final double DEFAULT_JITTER = 0.15;
  private static final Duration MAX_HINT = Duration.ofDays(1);
  private static final Pattern HINT =
      Pattern.compile(
          "(?i)\\b(?:try|retry|come back)(?:\\s+again)?\\s+(?:in|after)\\s+(\\d{1,6})\\s*"
              + "(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\\b");

  private final List<Duration> schedule;
  private final Integer maxAttempts;
  private final double jitter;
  private final RandomGenerator random;

  /** The outcome of {@link #next}. */
  public sealed interface Decision {
    record RetryAt(Instant when) implements Decision {}

    record GiveUp(Reason reason) implements Decision {}
  }

  public enum Reason {
    EXPIRED,
    MAX_ATTEMPTS
  }

  public RetryPolicy(
      List<Duration> schedule, Integer maxAttempts, double jitter, RandomGenerator random) {
    if (schedule == null || schedule.isEmpty()) {
      throw new IllegalArgumentException("retry_schedule must have at least one step");
    }
    for (Duration step : schedule) {
      if (step.isNegative() || step.isZero()) {
        throw new IllegalArgumentException("retry_schedule steps must be positive, was " + step);
      }
    }
    if (maxAttempts != null && maxAttempts < 1) {
      throw new IllegalArgumentException("max_attempts must be at least 1, was " + maxAttempts);
    }
    if (jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("jitter must be in [0, 1), was " + jitter);
    }
    this.schedule = List.copyOf(schedule);
    this.maxAttempts = maxAttempts;
    this.jitter = jitter;
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * Decides what follows a deferral.
   *
   * @param attemptsMade attempts so far, including the one that was just deferred
   * @param now the time of the deferral
   * @param expiresAt when the mail's lifetime ends (null: never)
   * @param replyText the text of the reply that deferred it, searched for a retry hint (nullable)
   */
  public Decision next(int attemptsMade, Instant now, Instant expiresAt, String replyText) {
    if (maxAttempts != null && attemptsMade >= maxAttempts) {
      return new Decision.GiveUp(Reason.MAX_ATTEMPTS);
    }
    Duration wait = serverHint(replyText).orElseGet(() -> jittered(step(attemptsMade)));
    Instant when = now.plus(wait);
    if (expiresAt != null && !when.isBefore(expiresAt)) {
      return new Decision.GiveUp(Reason.EXPIRED);
    }
    return new Decision.RetryAt(when);
  }

  Duration step(int attemptsMade) {
    int index = Math.max(0, Math.min(attemptsMade - 1, schedule.size() - 1));
    return schedule.get(index);
  }

  private Duration jittered(Duration base) {
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofMillis(Math.max(1, Math.round(base.toMillis() * factor)));
  }

  /** A "try again in N seconds|minutes|hours" in the reply, plus 10 % slack, capped at a day. */
  static Optional<Duration> serverHint(String replyText) {
    if (replyText == null) {
      return Optional.empty();
    }
    Matcher m = HINT.matcher(replyText);
    if (!m.find()) {
      return Optional.empty();
    }
    long n = Long.parseLong(m.group(1));
    Duration hint =
        switch (Character.toLowerCase(m.group(2).charAt(0))) {
          case 'h' -> Duration.ofHours(n);
          case 'm' -> Duration.ofMinutes(n);
          default -> Duration.ofSeconds(n);
        };
    if (hint.isZero()) {
      hint = Duration.ofSeconds(1);
    }
    Duration withSlack = hint.plus(hint.dividedBy(10));
    return Optional.of(withSlack.compareTo(MAX_HINT) > 0 ? MAX_HINT : withSlack);
  }
}
