package dev.postroom.dispatch;

import dev.postroom.dkim.DkimKeys;
import dev.postroom.dkim.DkimSigner;
import dev.postroom.outbox.ClaimStore;
import dev.postroom.outbox.ClaimedMail;
import dev.postroom.outbox.DeliveryAttachment;
import dev.postroom.outbox.DeliveryRecipient;
import dev.postroom.outbox.DeliveryStore;
import dev.postroom.outbox.OutboxJdbi;
import dev.postroom.unsubscribe.UnsubscribeLinks;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dispatcher process. Lifecycle: {@link #start()} loads the settings and accounts, starts the
 * LISTEN connection, the claim loop and the maintenance task; {@link #close()} stops claiming, lets
 * in-flight mail finish within the grace period, and gives back what is left.
 *
 * <p>The claim loop takes at most the free capacity in one statement, hands each mail to a virtual
 * thread, and claims again at once when a claim came back full; otherwise it waits for a
 * notification or the poll interval. Maintenance keeps the leases of in-flight mail alive, takes
 * back mail whose holder died, and re-reads settings and accounts.
 */
public final class Dispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  static final Duration REFRESH_EVERY = Duration.ofSeconds(30);
  static final Duration RECOVER_EVERY = Duration.ofSeconds(10);

  /**
   * A session idle this long is closed, so that its slot of a limit shared by all dispatchers goes
   * to a dispatcher that has mail for that account or destination.
   */
  static final Duration SHARED_IDLE = Duration.ofSeconds(2);

  private final DispatcherConfig config;
  private final ConnectionFactory listenConnections;
  private final Clock clock;
  private final RandomGenerator random;
  private final ClaimStore claims;
  private final DeliveryStore store;
  private final SharedLimits limits;
  private volatile DestinationPolicies policies = DestinationPolicies.NONE;
  private final AccountRoutes routes;
  private final DispatchMetrics metrics;
  private final Wakeup wakeup = new Wakeup();
  private final Semaphore capacity;
  private final int refillThreshold;
  private final Map<Long, ClaimedMail> inFlight = new ConcurrentHashMap<>();
  private final Object claimLock = new Object();
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private volatile DispatchSettings settings;
  private volatile RetryPolicy retryPolicy;
  private volatile boolean started;
  private volatile boolean stopping;
  private volatile boolean claimingWorks;
  private volatile boolean lastClaimFull;
  private MailDelivery delivery;
  private final MessageFactory messages;
  private RecordWriter writer;
  private Thread claimer;
  private Thread maintenance;

  public Dispatcher(
      DataSource pool,
      ConnectionFactory listenConnections,
      DispatcherConfig config,
      MeterRegistry registry,
      Clock clock) {
    this(pool, listenConnections, config, registry, clock, new SplittableRandom());
  }

  Dispatcher(
      DataSource pool,
      ConnectionFactory listenConnections,
      DispatcherConfig config,
      MeterRegistry registry,
      Clock clock,
      RandomGenerator random) {
    this.config = config;
    this.listenConnections = listenConnections;
    this.clock = clock;
    this.random = random;
    Jdbi jdbi = OutboxJdbi.create(pool);
    this.messages =
        new MessageFactory(
            new DkimSigner(new DkimKeys(jdbi, clock), clock), new UnsubscribeLinks(jdbi, clock));
    this.claims = new ClaimStore(jdbi);
    this.store = new DeliveryStore(jdbi, config.name());
    // the shared limits keep real time: they are compared with other processes through the database
    this.limits = new SharedLimits(jdbi, config.name(), Clock.systemUTC(), this::leaseDuration);
    this.routes = new AccountRoutes(limits);
    this.metrics = new DispatchMetrics(registry, config.name());
    this.capacity = new Semaphore(config.concurrency());
    this.refillThreshold = Math.max(1, Math.min(config.batchSize(), config.concurrency()) / 4);
  }

  public synchronized void start() {
    if (started) {
      return;
    }
    refresh();
    writer = new RecordWriter(store, metrics, 2, config.name());
    delivery =
        new MailDelivery(
            store,
            writer,
            routes,
            messages,
            () -> settings,
            () -> retryPolicy,
            clock,
            metrics,
            limits,
            () -> policies);
    wakeup.listen(listenConnections, config.name());
    claimer = Thread.ofPlatform().name("postroom-claim-" + config.name()).start(this::claimLoop);
    maintenance =
        Thread.ofPlatform()
            .name("postroom-maintenance-" + config.name())
            .daemon()
            .start(this::maintenanceLoop);
    started = true;
    log.info(
        "dispatcher {} started: concurrency {}, batch {}, poll {} ms, lease {} s",
        config.name(),
        config.concurrency(),
        config.batchSize(),
        config.pollInterval().toMillis(),
        settings.leaseDuration().toSeconds());
  }

  /** Starts if needed and returns once nothing is due and nothing is in flight. */
  public void runUntilIdle() throws InterruptedException {
    start();
    while (true) {
      synchronized (claimLock) {
        if (inFlight.isEmpty() && !lastClaimFull && !claims.anyDue(clock.instant())) {
          return;
        }
      }
      wakeup.signal();
      Thread.sleep(20);
    }
  }

  public boolean isHealthy() {
    return started && !stopping && claimingWorks;
  }

  public DispatchCounts counts() {
    return metrics.counts();
  }

  private void refresh() {
    settings = DispatchSettings.from(store.settings());
    retryPolicy = settings.retryPolicy(random);
    routes.timeouts(settings.smtpTimeouts());
    routes.refresh(store.accountsByProfile());
    policies = limits.policies();
  }

  private Duration leaseDuration() {
    DispatchSettings s = settings;
    return s == null ? DispatchSettings.MIN_LEASE : s.leaseDuration();
  }

  private void claimLoop() {
    long pause = 100;
    while (!stopping) {
      try {
        int free = capacity.availablePermits();
        if (free == 0 || (free < refillThreshold && !inFlight.isEmpty())) {
          // claim in worthwhile batches: a claim per finished mail would cost a commit per mail
          wakeup.await(config.pollInterval());
          continue;
        }
        int want = Math.min(free, config.batchSize());
        List<ClaimedMail> batch;
        synchronized (claimLock) {
          long t0 = System.nanoTime();
          batch = claims.claim(config.name(), want, clock.instant(), settings.leaseDuration());
          metrics.claimed(batch.size(), Duration.ofNanos(System.nanoTime() - t0));
          capacity.acquireUninterruptibly(batch.size());
          batch.forEach(m -> inFlight.put(m.id(), m));
          lastClaimFull = batch.size() == want;
        }
        claimingWorks = true;
        pause = 100;
        if (!batch.isEmpty()) {
          workers.execute(() -> deliverBatch(batch));
        }
        if (batch.size() < want) {
          wakeup.await(config.pollInterval());
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        claimingWorks = false;
        log.warn(
            "dispatcher {}: claim failed ({}); retrying in {} ms",
            config.name(),
            DatabaseRetry.rootMessage(e),
            pause);
        try {
          Thread.sleep(pause);
        } catch (InterruptedException ie) {
          return;
        }
        pause = Math.min(pause * 2, 5_000);
      }
    }
  }

  /**
   * Loads the batch's recipients and attachment lists (not their content) in two queries and
   * delivers each mail on its own virtual thread. If the batch cannot be loaded, each mail is
   * loaded alone, and one that still cannot be is recorded as that mail's failure.
   */
  private void deliverBatch(List<ClaimedMail> batch) {
    List<Long> ids = batch.stream().map(ClaimedMail::id).toList();
    Map<Long, List<DeliveryRecipient>> recipients;
    Map<Long, List<DeliveryAttachment>> attachments;
    try {
      Instant deadline = clock.instant().plus(settings.leaseDuration());
      recipients =
          DatabaseRetry.until(deadline, clock, "loading recipients", () -> store.recipients(ids));
      attachments =
          DatabaseRetry.until(deadline, clock, "loading attachments", () -> store.attachments(ids));
    } catch (InterruptedException e) {
      batch.forEach(this::done);
      return;
    } catch (RuntimeException e) {
      log.warn(
          "dispatcher {}: cannot load a batch of {} mails ({}); loading each alone",
          config.name(),
          batch.size(),
          DatabaseRetry.rootMessage(e));
      batch.forEach(mail -> workers.execute(() -> deliverAlone(mail)));
      return;
    }
    for (ClaimedMail mail : batch) {
      workers.execute(() ->
          deliver(
              mail,
              recipients.getOrDefault(mail.id(), List.of()),
              attachments.getOrDefault(mail.id(), List.of())));
    }
  }

  private void deliverAlone(ClaimedMail mail) {
    List<Long> id = List.of(mail.id());
    try {
      deliver(
          mail,
          store.recipients(id).getOrDefault(mail.id(), List.of()),
          store.attachments(id).getOrDefault(mail.id(), List.of()));
    } catch (RuntimeException e) {
      try {
        delivery.cannotLoad(mail, e);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException again) {
        log.error("mail {}: cannot be loaded nor recorded; its lease will run out", mail.id(), e);
      } finally {
        done(mail);
      }
    }
  }

  private void deliver(
      ClaimedMail mail, List<DeliveryRecipient> recipients, List<DeliveryAttachment> attachments) {
    try {
      delivery.deliver(mail, recipients, attachments);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error(
          "mail {} attempt {}: could not be recorded; the lease will run out and it is tried again",
          mail.id(),
          mail.attempts(),
          e);
    } finally {
      done(mail);
    }
  }

  private void done(ClaimedMail mail) {
    if (inFlight.remove(mail.id()) != null) {
      capacity.release();
    }
    if (stopping || (lastClaimFull && capacity.availablePermits() >= refillThreshold)) {
      wakeup.signal();
    }
  }

  /**
   * Every second: extend the leases of in-flight mail once a third of the lease has passed since
   * the last extension, take back expired leases every {@link #RECOVER_EVERY}, and re-read settings
   * and accounts every {@link #REFRESH_EVERY}.
   */
  private void maintenanceLoop() {
    Instant lastRefresh = clock.instant();
    Instant lastExtension = clock.instant();
    Instant lastRecovery = Instant.MIN;
    while (!stopping) {
      try {
        Thread.sleep(1_000);
        limits.maintain();
        routes.closeIdle(SHARED_IDLE);
        Duration lease = settings.leaseDuration();
        Instant now = clock.instant();
        if (Duration.between(lastExtension, now).compareTo(lease.dividedBy(3)) >= 0) {
          lastExtension = now;
          if (!inFlight.isEmpty()) {
            claims.extendLeases(List.copyOf(inFlight.values()), now.plus(lease));
          }
        }
        if (Duration.between(lastRecovery, now).compareTo(RECOVER_EVERY) >= 0) {
          lastRecovery = now;
          int recovered = claims.recoverExpiredLeases(now, config.name()).size();
          if (recovered > 0) {
            metrics.leasesRecovered(recovered);
            log.warn(
                "dispatcher {}: took back {} mails whose lease ran out", config.name(), recovered);
            wakeup.signal();
          }
        }
        if (Duration.between(lastRefresh, now).compareTo(REFRESH_EVERY) >= 0) {
          lastRefresh = now;
          refresh();
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn(
            "dispatcher {}: maintenance failed: {}", config.name(), DatabaseRetry.rootMessage(e));
      }
    }
  }

  /** Runs lease recovery now (tests; otherwise every 10 s). */
  int recoverNow() {
    return claims.recoverExpiredLeases(clock.instant(), config.name()).size();
  }

  @Override
  public synchronized void close() {
    if (!started || stopping) {
      return;
    }
    stopping = true;
    wakeup.signal();
    try {
      claimer.join();
      long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
      while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      if (!inFlight.isEmpty()) {
        log.warn(
            "dispatcher {}: {} mails still in flight after {} s; interrupting and giving them back",
            config.name(),
            inFlight.size(),
            config.shutdownGrace().toSeconds());
        workers.shutdownNow();
        workers.awaitTermination(2, TimeUnit.SECONDS);
        claims.release(List.copyOf(inFlight.values()), clock.instant());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn(
          "dispatcher {}: could not give back in-flight mail: {}", config.name(), e.getMessage());
    } finally {
      workers.shutdownNow();
      writer.close();
      maintenance.interrupt();
      wakeup.close();
      routes.close();
      limits.close();
      DispatchCounts c = counts();
      log.info(
          "dispatcher {} stopped: {} delivered, {} deferred, {} failed",
          config.name(),
          c.delivered(),
          c.deferred(),
          c.failed());
    }
  }
}
