package dev.postroom.unsubscribe;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.postroom.unsubscribe.UnsubscribeToken.Subscriber;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one-click unsubscribe endpoint (RFC 8058), meant to sit behind a TLS-terminating proxy:
 *
 * <ul>
 *   <li>{@code POST /unsubscribe/TOKEN} with body {@code List-Unsubscribe=One-Click} (form-encoded
 *       or multipart): 200, the address is suppressed for the profile's list mail;
 *   <li>{@code GET /unsubscribe/TOKEN}: 200, a page with a confirm button; changes nothing (link
 *       scanners fetch URLs);
 *   <li>a token that is malformed, altered or forged: 404, changes nothing; a POST without the
 *       one-click body: 400; any other method: 405; any other path: 404.
 * </ul>
 *
 * Requests are bounded: {@value #MAX_BODY} octets of body, {@value #REQUEST_SECONDS} seconds to
 * read a request and to write a response, {@value #THREADS} at a time. Clients never see a stack
 * trace; logs never show tokens or addresses.
 */
public final class UnsubscribeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UnsubscribeServer.class);

  static final int MAX_BODY = 8 * 1024;
  static final int REQUEST_SECONDS = 10;
  static final int THREADS = 8;
  static final String PATH = "/unsubscribe/";
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,512}");

  private final HttpServer server;
  private final ExecutorService executor;
  private final UnsubscribeToken tokens;
  private final UnsubscribeStore store;

  private UnsubscribeServer(
      HttpServer server,
      ExecutorService executor,
      UnsubscribeToken tokens,
      UnsubscribeStore store) {
    this.server = server;
    this.executor = executor;
    this.tokens = tokens;
    this.store = store;
  }

  /**
   * Sets the JDK HTTP server's request and response time limits. They are read once per JVM, when
   * the first server is made, so call this before any HttpServer is created (postroom run does).
   */
  public static void limitRequestTimes() {
    for (String p :
        new String[] {"sun.net.httpserver.maxReqTime", "sun.net.httpserver.maxRspTime"}) {
      if (System.getProperty(p) == null) {
        System.setProperty(p, Integer.toString(REQUEST_SECONDS));
      }
    }
  }

  /** Binds and serves; port 0 picks a free one. Reads the secret now, so a bad setup fails here. */
  public static UnsubscribeServer start(InetSocketAddress address, Jdbi jdbi) throws IOException {
    limitRequestTimes();
    UnsubscribeToken tokens = new UnsubscribeToken(UnsubscribeLinks.secret(jdbi));
    HttpServer server = HttpServer.create(address, 64);
    ExecutorService executor =
        Executors.newFixedThreadPool(
            THREADS, Thread.ofPlatform().name("postroom-unsubscribe-", 0).daemon().factory());
    server.setExecutor(executor);
    UnsubscribeServer s =
        new UnsubscribeServer(server, executor, tokens, new UnsubscribeStore(jdbi));
    server.createContext("/", s::handle);
    server.start();
    return s;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange exchange) {
    try (exchange) {
      try {
        route(exchange);
      } catch (IOException e) {
        log.debug("unsubscribe request ended early: {}", e.getClass().getSimpleName());
      } catch (RuntimeException e) {
        log.error("unsubscribe request failed: {}", e.getClass().getSimpleName(), e);
        send(
            exchange,
            500,
            "text/plain",
            "The request could not be processed; please try again later.\n");
      }
    } catch (IOException | RuntimeException ignored) {
      // the client is gone; nothing to tell it
    }
  }

  private void route(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    String method = exchange.getRequestMethod();
    if (path == null || !path.startsWith(PATH)) {
      send(exchange, 404, "text/plain", "Not found.\n");
      return;
    }
    if (!method.equals("GET") && !method.equals("POST")) {
      exchange.getResponseHeaders().set("Allow", "GET, POST");
      send(exchange, 405, "text/plain", "Method not allowed.\n");
      return;
    }
    String token = path.substring(PATH.length());
    Optional<Subscriber> subscriber =
        TOKEN.matcher(token).matches() ? tokens.verify(token) : Optional.empty();
    if (method.equals("GET")) {
      if (subscriber.isEmpty() || !store.known(subscriber.get())) {
        send(
            exchange,
            404,
            "text/html",
            page("Link not valid", "<p>This unsubscribe link is not valid.</p>"));
        return;
      }
      send(
          exchange,
          200,
          "text/html",
          page(
              "Unsubscribe",
              "<p>Unsubscribe <b>"
                  + html(subscriber.get().address())
                  + "</b> from these mailings?</p>"
                  + "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                  + "<button type=\"submit\">Unsubscribe</button></form>"));
      return;
    }
    byte[] body = readBody(exchange);
    if (body == null) {
      send(exchange, 413, "text/plain", "Request body too large.\n");
      return;
    }
    if (subscriber.isEmpty()) {
      send(exchange, 404, "text/plain", "This unsubscribe link is not valid.\n");
      return;
    }
    if (!oneClick(body, exchange.getRequestHeaders().getFirst("Content-Type"))) {
      send(
          exchange,
          400,
          "text/plain",
          "Expected the body List-Unsubscribe=One-Click (RFC 8058).\n");
      return;
    }
    UnsubscribeStore.Outcome outcome = store.unsubscribe(subscriber.get());
    if (outcome == UnsubscribeStore.Outcome.UNKNOWN) {
      send(exchange, 404, "text/plain", "This unsubscribe link is not valid.\n");
      return;
    }
    log.info(
        "one-click unsubscribe for profile {} ({})",
        subscriber.get().profileId(),
        outcome == UnsubscribeStore.Outcome.UNSUBSCRIBED ? "new" : "repeated");
    send(exchange, 200, "text/html", page("Unsubscribed", "<p>You are unsubscribed.</p>"));
  }

  /** The body, or null when it is over {@value #MAX_BODY} octets. */
  private static byte[] readBody(HttpExchange exchange) throws IOException {
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > MAX_BODY) {
          return null;
        }
      } catch (NumberFormatException e) {
        return null;
      }
    }
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes(MAX_BODY + 1);
      return body.length > MAX_BODY ? null : body;
    }
  }

  /** RFC 8058 §3.1: the POST carries List-Unsubscribe=One-Click, form-encoded or as form-data. */
  static boolean oneClick(byte[] body, String contentType) {
    String text = new String(body, StandardCharsets.UTF_8);
    if (contentType != null
        && contentType.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
      return Pattern.compile(
              "(?is)content-disposition:\\s*form-data;\\s*name=\"?List-Unsubscribe\"?\\s*\\r?\\n(?:[^\\r\\n]+\\r?\\n)*\\r?\\nOne-Click\\s*\\r?\\n")
          .matcher(text)
          .find();
    }
    for (String pair : text.strip().split("&")) {
      int eq = pair.indexOf('=');
      if (eq < 0) {
        continue;
      }
      try {
        String name = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        if (name.equals("List-Unsubscribe") && value.equals("One-Click")) {
          return true;
        }
      } catch (IllegalArgumentException malformed) {
        return false;
      }
    }
    return false;
  }

  private static String page(String title, String content) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"robots\" content=\"noindex\"><title>"
        + title
        + "</title></head>\n<body>"
        + "<h1>"
        + title
        + "</h1>"
        + content
        + "</body></html>\n";
  }

  private static String html(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    exchange.getResponseHeaders().set("Referrer-Policy", "no-referrer");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
