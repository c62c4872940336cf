package dev.postroom.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The HTTP endpoint Prometheus and orchestrators poll: {@code GET /metrics} (Prometheus text
 * format) and {@code GET /health} (200 {@code ok} while the health check holds, 503 {@code
 * unhealthy} otherwise). Anything else is 404; methods other than GET and HEAD are 405.
 */
public final class MetricsServer implements AutoCloseable {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Binds and starts serving; port 0 picks a free port (see {@link #port()}). */
  public static MetricsServer start(
      InetSocketAddress address, PrometheusMeterRegistry registry, BooleanSupplier healthy)
      throws IOException {
    HttpServer server = HttpServer.create(address, 16);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext(
        "/metrics",
        exchange -> respond(exchange, "/metrics", 200, PROMETHEUS_TEXT, () -> registry.scrape()));
    server.createContext(
        "/health",
        exchange -> {
          boolean ok = healthy.getAsBoolean();
          respond(
              exchange,
              "/health",
              ok ? 200 : 503,
              "text/plain; charset=utf-8",
              () -> ok ? "ok\n" : "unhealthy\n");
        });
    server.createContext(
        "/",
        exchange -> respond(exchange, "/", 404, "text/plain; charset=utf-8", () -> "not found\n"));
    server.start();
    return new MetricsServer(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private interface Body {
    String get();
  }

  private static void respond(
      HttpExchange exchange, String path, int status, String contentType, Body body)
      throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!exchange.getRequestURI().getPath().equals(path)) {
        status = 404;
        body = () -> "not found\n";
        contentType = "text/plain; charset=utf-8";
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        status = 405;
        body = () -> "method not allowed\n";
        contentType = "text/plain; charset=utf-8";
      }
      byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", contentType);
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.close();
  }
}
