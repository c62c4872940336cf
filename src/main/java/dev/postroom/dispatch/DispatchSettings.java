package dev.postroom.dispatch;

import dev.postroom.mx.MxSettings;
import dev.postroom.outbox.SettingValues;
import dev.postroom.smtp.Timeouts;
import java.time.Duration;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The settings all dispatchers share, read from {@code mail.setting} in one query and re-read
 * periodically, so {@code mail.configure} takes effect without a restart. Defaults live in SQL only
 * (the {@code default_value} column); this record restates none of them.
 *
 * @param maxAttempts null: bounded by the message lifetime only
 * @param leaseDuration never below {@link #MIN_LEASE}, a floor that keeps leases renewable
 * @param smtpTimeouts from {@code smtp_connect_timeout} … {@code smtp_data_done_timeout}
 */
record DispatchSettings(
    List<Duration> retrySchedule,
    Integer maxAttempts,
    Duration leaseDuration,
    MxSettings mxSettings,
    int mxPort,
    Timeouts smtpTimeouts) {

  static final Duration MIN_LEASE = Duration.ofSeconds(5);

  DispatchSettings {
    retrySchedule = List.copyOf(retrySchedule);
    if (leaseDuration.compareTo(MIN_LEASE) < 0) {
      leaseDuration = MIN_LEASE;
    }
  }

  static DispatchSettings from(SettingValues s) {
    String dns = s.text("dns_servers");
    return new DispatchSettings(
        s.durations("retry_schedule"),
        s.integer("max_attempts"),
        s.duration("lease_duration"),
        dns == null || dns.isBlank() ? MxSettings.system() : MxSettings.parse(dns),
        s.integer("mx_port"),
        Timeouts.of(
            s.duration("smtp_connect_timeout"),
            s.duration("smtp_greeting_timeout"),
            s.duration("smtp_command_timeout"),
            s.duration("smtp_data_init_timeout"),
            s.duration("smtp_data_block_timeout"),
            s.duration("smtp_data_done_timeout")));
  }

  RetryPolicy retryPolicy(RandomGenerator random) {
    return new RetryPolicy(retrySchedule, maxAttempts, RetryPolicy.DEFAULT_JITTER, random);
  }
}
