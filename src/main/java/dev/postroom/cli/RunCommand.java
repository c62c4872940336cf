package dev.postroom.cli;

import dev.postroom.app.DatabaseWait;
import dev.postroom.app.DispatcherRuntime;
import dev.postroom.app.QueueGauges;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.dispatch.Dispatcher;
import dev.postroom.dispatch.DispatcherConfig;
import dev.postroom.outbox.OutboxJdbi;
import dev.postroom.unsubscribe.UnsubscribeServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run a dispatcher: claim due mail and deliver it, until stopped (SIGTERM or Ctrl-C stop it",
      "gracefully), or with --until-idle until nothing is due and nothing is in flight.",
      "Any number of dispatchers may run against one database."
    })
final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);
  private final CliContext ctx;
  @Mixin GlobalOptions global;
  @Spec CommandSpec spec;

  @Option(names = "--until-idle", description = "Exit 0 once nothing is due and nothing in flight.")
  boolean untilIdle;

  @Option(
      names = "--dispatcher-name",
      paramLabel = "NAME",
      description = "Names this dispatcher in leases and the event log (default: HOST-PID).")
  String name;

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      description = "Mails in flight at once (default: ${DEFAULT-VALUE}).")
  int concurrency = DispatcherConfig.DEFAULT_CONCURRENCY;

  @Option(
      names = "--batch-size",
      paramLabel = "N",
      description = "Most mails one claim takes (default: ${DEFAULT-VALUE}).")
  int batchSize = DispatcherConfig.DEFAULT_BATCH_SIZE;

  @Option(
      names = "--poll-interval",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "Look for due mail this often without a notification (default: 1s).")
  Duration pollInterval = DispatcherConfig.DEFAULT_POLL_INTERVAL;

  @Option(
      names = "--shutdown-grace",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "How long a stop lets in-flight mail finish (default: 30s).")
  Duration shutdownGrace = DispatcherConfig.DEFAULT_SHUTDOWN_GRACE;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description = "Serve /metrics (Prometheus) and /health on this port; 0 picks a free one.")
  Integer metricsPort;

  @Option(
      names = "--metrics-bind",
      paramLabel = "ADDRESS",
      description = "Address for --metrics-port (default: ${DEFAULT-VALUE}).")
  String metricsBind = "127.0.0.1";

  @Option(
      names = "--max-database-wait",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = {
        "Longest pause between tries while PostgreSQL is unreachable at start (default: 30s).",
        "Without --until-idle the dispatcher waits for the database, e.g. during a failover."
      })
  Duration maxDatabaseWait = DatabaseWait.MAX_BACKOFF;

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      description = {
        "Serve the one-click unsubscribe endpoint (POST/GET /unsubscribe/TOKEN, RFC 8058) on this",
        "port, behind a TLS-terminating proxy published as the unsubscribe_url setting; 0 picks a free one."
      })
  Integer httpPort;

  @Option(
      names = "--http-bind",
      paramLabel = "ADDRESS",
      description = "Address for --http-port (default: ${DEFAULT-VALUE}).")
  String httpBind = "127.0.0.1";

  RunCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws IOException, InterruptedException, SQLException {
    ctx.logging();
    DispatcherConfig config = config();
    InetSocketAddress metrics = metricsAddress();
    InetSocketAddress http = address("--http-port", httpPort, "--http-bind", httpBind);
    if (http != null) {
      UnsubscribeServer.limitRequestTimes();
    }
    DatabaseConfig database = ctx.database();
    AtomicReference<UnsubscribeServer> endpoint = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicReference<DispatcherRuntime> running = new AtomicReference<>();
    Thread hook =
        new Thread(
            () -> {
              log.info("dispatcher {} stopping", config.name());
              closeEndpoint(endpoint);
              DispatcherRuntime r = running.get();
              if (r != null) {
                r.close();
              }
              stopped.countDown();
            },
            "postroom-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    // A long-running dispatcher outlives database outages, including one at its own start (a
    // failover in progress); --until-idle is a one-shot job and fails fast instead.
    if (!untilIdle && !DatabaseWait.until(database, stopped, maxDatabaseWait)) {
      return Main.OK;
    }
    DispatcherRuntime runtime;
    try {
      runtime =
          DispatcherRuntime.create(
              database, config, metrics, QueueGauges.DEFAULT_INTERVAL, Clock.systemUTC());
    } catch (IOException | RuntimeException e) {
      removeHook(hook);
      throw e;
    }
    running.set(runtime);
    if (http != null) {
      try {
        UnsubscribeServer server = UnsubscribeServer.start(http, OutboxJdbi.create(runtime.pool()));
        endpoint.set(server);
        log.info(
            "one-click unsubscribe on http://{}:{}/unsubscribe/",
            server.address().getHostString(),
            server.port());
      } catch (IOException | RuntimeException e) {
        runtime.close();
        removeHook(hook);
        throw e;
      }
    }
    Dispatcher dispatcher = runtime.dispatcher();
    try (ProgressReporter progress =
        new ProgressReporter(dispatcher, runtime.queue(), ctx.env.terminal() ? ctx.out : null)) {
      if (untilIdle) {
        dispatcher.runUntilIdle();
        runtime.close();
        ctx.out.println(progress.summary());
      } else {
        dispatcher.start();
        stopped.await();
      }
    } finally {
      closeEndpoint(endpoint);
      runtime.close();
      removeHook(hook);
    }
    return Main.OK;
  }

  private DispatcherConfig config() {
    try {
      return new DispatcherConfig(
          name != null ? name : defaultName(), concurrency, batchSize, pollInterval, shutdownGrace);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private static void closeEndpoint(AtomicReference<UnsubscribeServer> endpoint) {
    UnsubscribeServer server = endpoint.getAndSet(null);
    if (server != null) {
      server.close();
    }
  }

  private InetSocketAddress metricsAddress() {
    return address("--metrics-port", metricsPort, "--metrics-bind", metricsBind);
  }

  private InetSocketAddress address(
      String portOption, Integer port, String bindOption, String bind) {
    if (port == null) {
      return null;
    }
    if (port < 0 || port > 65535) {
      throw new ParameterException(
          spec.commandLine(), portOption + " must be 0-65535, was " + port);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(bind), port);
    } catch (UnknownHostException e) {
      throw new ParameterException(
          spec.commandLine(), bindOption + ": unknown address '" + bind + "'");
    }
  }

  static String defaultName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "dispatcher";
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down and runs the hook itself
    }
  }
}
