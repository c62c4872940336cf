package dev.postroom.web;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reading one request: its cookie, its query string and its form body. */
final class Exchange {
  static final String COOKIE = "postroom_session";
  static final int MAX_FORM_BYTES = 16 * 1024;

  private Exchange() {}

  static String sessionCookie(HttpExchange ex) {
    List<String> headers = ex.getRequestHeaders().get("Cookie");
    if (headers == null) {
      return null;
    }
    for (String header : headers) {
      for (String part : header.split(";")) {
        String[] kv = part.strip().split("=", 2);
        if (kv.length == 2 && kv[0].equals(COOKIE)) {
          return kv[1];
        }
      }
    }
    return null;
  }

  static String cookie(String id) {
    return COOKIE + "=" + id + "; Path=/; HttpOnly; SameSite=Strict";
  }

  static String clearedCookie() {
    return COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  }

  static Map<String, String> query(HttpExchange ex) {
    return parse(ex.getRequestURI().getRawQuery());
  }

  /** The url-encoded form of a POST; an over-long body reads as an empty form. */
  static Map<String, String> form(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] body = in.readNBytes(MAX_FORM_BYTES + 1);
      if (body.length > MAX_FORM_BYTES) {
        return Map.of();
      }
      return parse(new String(body, StandardCharsets.US_ASCII));
    }
  }

  /**
   * Whether a POST comes from this site: browsers send Origin on POST, and it must name the host
   * the request was sent to. SameSite=Strict and the CSRF token are the main defences.
   */
  static boolean sameOrigin(HttpExchange ex) {
    String origin = ex.getRequestHeaders().getFirst("Origin");
    String host = ex.getRequestHeaders().getFirst("Host");
    return origin == null || (host != null && origin.equals("http://" + host));
  }

  private static Map<String, String> parse(String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      String[] kv = pair.split("=", 2);
      try {
        String key = URLDecoder.decode(kv[0], StandardCharsets.UTF_8);
        String value = kv.length == 2 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "";
        out.putIfAbsent(key, value);
      } catch (IllegalArgumentException malformed) {
        // a malformed %-escape: skip the pair, as if it had not been sent
      }
    }
    return out;
  }
}
