package dev.postroom.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** The dispatcher's meters, and the counts behind {@link Dispatcher#counts()}. */
final class DispatchMetrics {
  private final MeterRegistry registry;
  private final String dispatcher;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong deferred = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final Timer claimTimer;
  private final DistributionSummary claimBatch;
  private final Counter leasesRecovered;

  DispatchMetrics(MeterRegistry registry, String dispatcher) {
    this.registry = registry;
    this.dispatcher = dispatcher;
    this.claimTimer =
        Timer.builder("postroom.claim.duration")
            .description("Time of one claim statement")
            .tag("dispatcher", dispatcher)
            .register(registry);
    this.claimBatch =
        DistributionSummary.builder("postroom.claim.batch.size")
            .description("Mails taken by one claim")
            .tag("dispatcher", dispatcher)
            .register(registry);
    this.leasesRecovered =
        Counter.builder("postroom.leases.recovered")
            .description("Mails taken back after their dispatcher's lease ran out")
            .tag("dispatcher", dispatcher)
            .register(registry);
  }

  void claimed(int mails, Duration took) {
    claimTimer.record(took);
    claimBatch.record(mails);
  }

  void leasesRecovered(int mails) {
    leasesRecovered.increment(mails);
  }

  /** One recipient's outcome; {@code replyClass} is "2xx", "4xx", "5xx" or "local". */
  void outcome(String status, String account, String replyClass) {
    switch (status) {
      case "delivered" -> delivered.incrementAndGet();
      case "deferred" -> deferred.incrementAndGet();
      default -> failed.incrementAndGet();
    }
    Counter.builder("postroom.recipients")
        .description("Recipient outcomes by account and reply class")
        .tag("outcome", status)
        .tag("account", account == null ? "none" : account)
        .tag("reply_class", replyClass)
        .register(registry)
        .increment();
  }

  void smtpTransaction(String account, Duration took) {
    Timer.builder("postroom.smtp.transaction")
        .description("Time of one SMTP transaction, MAIL to the end-of-data reply")
        .tag("account", account)
        .register(registry)
        .record(took);
  }

  void endToEnd(Duration sinceEnqueue) {
    Timer.builder("postroom.delivery.latency")
        .description("From enqueue to the recorded delivery")
        .tag("dispatcher", dispatcher)
        .publishPercentiles(0.5, 0.99)
        .register(registry)
        .record(sinceEnqueue);
  }

  DispatchCounts counts() {
    return new DispatchCounts(delivered.get(), deferred.get(), failed.get());
  }
}
