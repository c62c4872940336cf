package dev.postroom.dispatch;

import dev.postroom.mx.MxSettings;
import dev.postroom.outbox.DeliveryStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The settings all dispatchers share, read from {@code mail.setting} and re-read periodically, so
 * {@code mail.configure} takes effect without a restart.
 */
record DispatchSettings(
    List<Duration> retrySchedule,
    Integer maxAttempts,
    Duration leaseDuration,
    MxSettings mxSettings,
    int mxPort) {

  static final Duration MIN_LEASE = Duration.ofSeconds(5);

  static DispatchSettings load(DeliveryStore store) {
    Map<String, String> s =
        store.settings(List.of("max_attempts", "lease_duration", "dns_servers", "mx_port"));
    List<Duration> schedule =
        store.retryScheduleSeconds().stream()
            .map(seconds -> Duration.ofMillis(Math.round(seconds * 1000)))
            .toList();
    String maxAttempts = s.get("max_attempts");
    Duration lease = store.intervalSetting("lease_duration");
    String dns = s.get("dns_servers");
    String mxPort = s.get("mx_port");
    return new DispatchSettings(
        schedule,
        maxAttempts == null || maxAttempts.isBlank() ? null : Integer.valueOf(maxAttempts.trim()),
        lease.compareTo(MIN_LEASE) < 0 ? MIN_LEASE : lease,
        dns == null || dns.isBlank() ? MxSettings.system() : MxSettings.parse(dns),
        mxPort == null || mxPort.isBlank() ? 25 : Integer.parseInt(mxPort.trim()));
  }

  RetryPolicy retryPolicy(RandomGenerator random) {
    return new RetryPolicy(retrySchedule, maxAttempts, RetryPolicy.DEFAULT_JITTER, random);
  }
}
