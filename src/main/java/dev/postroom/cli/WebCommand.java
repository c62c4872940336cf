package dev.postroom.cli;

import dev.postroom.config.ConfigException;
import dev.postroom.config.DatabaseConfig;
import dev.postroom.web.WebConfig;
import dev.postroom.web.WebServer;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "web",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the status page: log in with a PostgreSQL role and password, and every query runs",
      "as that role (row security applies). The server and database come from --db or PG*; the",
      "user and password in them are not used. Stops on Ctrl-C."
    })
final class WebCommand implements Callable<Integer> {
  private final CliContext ctx;
  @Mixin GlobalOptions global;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
  int port = WebConfig.DEFAULT_PORT;

  @Option(
      names = "--bind",
      paramLabel = "ADDRESS",
      description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only).")
  String bind = WebConfig.DEFAULT_BIND;

  @Option(
      names = "--session-timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "A session ends after this long without a request (default: 30m).")
  Duration sessionTimeout = WebConfig.DEFAULT_SESSION_TIMEOUT;

  WebCommand(CliContext ctx) {
    this.ctx = ctx;
    this.global = new GlobalOptions(ctx);
  }

  @Override
  public Integer call() throws Exception {
    ctx.logging();
    if (port < 0 || port > 65535) {
      throw new ConfigException("--port must be 0-65535, was " + port);
    }
    DatabaseConfig database = ctx.database();
    WebConfig config = new WebConfig(new InetSocketAddress(bind, port), database, sessionTimeout);
    WebServer server;
    try {
      server = WebServer.start(config, Clock.systemUTC());
    } catch (BindException e) {
      throw new CliFailure("cannot listen on " + bind + ":" + port + ": " + e.getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              server.close();
              stopped.countDown();
            },
            "postroom-web-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    ctx.out.printf(
        "Status page: http://%s:%d/ (log in with a PostgreSQL role of %s/%s)%n",
        config.address().getHostString(),
        server.port(),
        database.hosts().get(0),
        database.database());
    stopped.await();
    return Main.OK;
  }
}
