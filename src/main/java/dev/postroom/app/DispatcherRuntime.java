package dev.postroom.app;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.dispatch.Dispatcher;
import dev.postroom.dispatch.DispatcherConfig;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dispatcher with everything around it: the connection pool, the dedicated LISTEN connections,
 * the Prometheus registry (JVM, pool, queue and the dispatcher's own meters) and, when asked, the
 * {@code /metrics} and {@code /health} endpoint. {@link #close()} stops the dispatcher gracefully
 * first, then the endpoint, the gauges and the pool.
 */
public final class DispatcherRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DispatcherRuntime.class);

  /** The most pooled connections a dispatcher uses, whatever its concurrency. */
  public static final int MAX_POOL_SIZE = 16;

  private final HikariDataSource pool;
  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gcMetrics;
  private final QueueGauges queue;
  private final Retention retention;
  private final Dispatcher dispatcher;
  private final MetricsServer metricsServer;
  private boolean closed;

  private DispatcherRuntime(
      HikariDataSource pool,
      PrometheusMeterRegistry registry,
      JvmGcMetrics gcMetrics,
      QueueGauges queue,
      Retention retention,
      Dispatcher dispatcher,
      MetricsServer metricsServer) {
    this.pool = pool;
    this.registry = registry;
    this.gcMetrics = gcMetrics;
    this.queue = queue;
    this.retention = retention;
    this.dispatcher = dispatcher;
    this.metricsServer = metricsServer;
  }

  /**
   * Connects and builds the dispatcher (not yet started), and serves metrics on {@code
   * metricsAddress} when it is not null. Fails at once when PostgreSQL cannot be reached.
   */
  public static DispatcherRuntime create(
      DatabaseConfig database,
      DispatcherConfig config,
      InetSocketAddress metricsAddress,
      Duration queuePollInterval,
      Clock clock)
      throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    int poolSize = Math.max(4, Math.min(MAX_POOL_SIZE, config.concurrency() / 4 + 2));
    HikariDataSource pool =
        database.pool(
            "postroom-" + config.name(),
            poolSize,
            hikari ->
                hikari.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry)));
    QueueGauges queue = null;
    Retention retention = null;
    Dispatcher dispatcher = null;
    try {
      queue = new QueueGauges(pool, registry, queuePollInterval);
      retention = new Retention(pool, config.name()).schedule();
      dispatcher = new Dispatcher(pool, database::connect, config, registry, clock);
      MetricsServer server = null;
      if (metricsAddress != null) {
        Dispatcher d = dispatcher;
        server = MetricsServer.start(metricsAddress, registry, d::isHealthy);
        log.info(
            "metrics on http://{}:{}/metrics, health on /health",
            server.address().getHostString(),
            server.port());
      }
      return new DispatcherRuntime(pool, registry, gc, queue, retention, dispatcher, server);
    } catch (IOException | RuntimeException e) {
      if (dispatcher != null) {
        dispatcher.close();
      }
      if (queue != null) {
        queue.close();
      }
      if (retention != null) {
        retention.close();
      }
      pool.close();
      gc.close();
      throw e;
    }
  }

  public Dispatcher dispatcher() {
    return dispatcher;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public QueueGauges queue() {
    return queue;
  }

  public HikariDataSource pool() {
    return pool;
  }

  public Optional<MetricsServer> metricsServer() {
    return Optional.ofNullable(metricsServer);
  }

  /** Graceful: the dispatcher finishes or releases what it holds before anything else closes. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      dispatcher.close();
    } finally {
      if (metricsServer != null) {
        metricsServer.close();
      }
      queue.close();
      retention.close();
      pool.close();
      gcMetrics.close();
    }
  }
}
