package dev.postroom.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page's HTTP server (the JDK's). Routes: {@code GET/POST /login}, {@code POST /logout},
 * and for a logged-in session {@code GET /} (overview), {@code GET /mails}, {@code GET /mails/ID},
 * {@code POST /mails/ID/retry|cancel}, {@code GET /accounts} (admin). Every POST needs the
 * session's CSRF token; every HTML response forbids caching, framing and scripts.
 */
public final class WebServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebServer.class);
  static final String HTML = "text/html; charset=utf-8";
  static final String SECURITY_POLICY =
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
          + " frame-ancestors 'none'; base-uri 'none'";

  private final HttpServer server;
  private final ExecutorService executor;
  private final ScheduledExecutorService sweeper;
  private final Sessions sessions;

  private WebServer(
      HttpServer server,
      ExecutorService executor,
      ScheduledExecutorService sweeper,
      Sessions sessions) {
    this.server = server;
    this.executor = executor;
    this.sweeper = sweeper;
    this.sessions = sessions;
  }

  /** Binds and starts serving; port 0 picks a free port (see {@link #port()}). */
  public static WebServer start(WebConfig config, Clock clock) throws IOException {
    Sessions sessions = new Sessions(config.sessionTimeout(), clock);
    Pages pages = new Pages(new Login(config.database()), sessions, new Views());
    HttpServer server = HttpServer.create(config.address(), 64);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", exchange -> serve(exchange, pages));
    ScheduledExecutorService sweeper =
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "postroom-web-sessions");
          t.setDaemon(true);
          return t;
        });
    long every = Math.max(1, Math.min(60, config.sessionTimeout().toSeconds() / 4));
    sweeper.scheduleWithFixedDelay(sessions::expire, every, every, TimeUnit.SECONDS);
    server.start();
    log.info(
        "status page at http://{}:{}/ for {} (sessions end after {} s idle)",
        server.getAddress().getHostString(),
        server.getAddress().getPort(),
        config.database().hosts().get(0) + "/" + config.database().database(),
        config.sessionTimeout().toSeconds());
    return new WebServer(server, executor, sweeper, sessions);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** Live sessions, logged in or not; for tests. */
  int sessionCount() {
    return sessions.size();
  }

  @Override
  public void close() {
    server.stop(0);
    sweeper.shutdownNow();
    executor.shutdownNow();
    sessions.closeAll();
  }

  /** An HTTP answer: status, body and extra headers (Location, Set-Cookie). */
  record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    static Response html(int status, String html) {
      return new Response(
          status, HTML, html.getBytes(StandardCharsets.UTF_8), new LinkedHashMap<>());
    }

    static Response redirect(String location) {
      Response r = new Response(303, null, new byte[0], new LinkedHashMap<>());
      r.headers.put("Location", location);
      return r;
    }

    Response with(String header, String value) {
      headers.put(header, value);
      return this;
    }
  }

  private static void serve(HttpExchange exchange, Pages pages) {
    try (exchange) {
      Response r;
      try {
        r = pages.route(exchange);
      } catch (RuntimeException | IOException e) {
        log.error(
            "status page: {} {} failed",
            exchange.getRequestMethod(),
            exchange.getRequestURI().getPath(),
            e);
        r =
            Response.html(
                500,
                "<!DOCTYPE html><title>Error</title><p>Internal error; see the server log.</p>");
      }
      send(exchange, r);
    } catch (IOException e) {
      log.debug("status page: client went away", e);
    }
  }

  private static void send(HttpExchange exchange, Response r) throws IOException {
    var headers = exchange.getResponseHeaders();
    if (r.contentType() != null) {
      headers.set("Content-Type", r.contentType());
    }
    headers.set("Cache-Control", "no-store");
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "same-origin");
    headers.set("Content-Security-Policy", SECURITY_POLICY);
    r.headers().forEach(headers::set);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    if (r.body().length == 0 || head) {
      exchange.sendResponseHeaders(r.status(), -1);
      return;
    }
    exchange.sendResponseHeaders(r.status(), r.body().length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(r.body());
    }
  }

  static Optional<String> nonBlank(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
  }
}
