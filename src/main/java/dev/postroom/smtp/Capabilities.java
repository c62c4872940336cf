package dev.postroom.smtp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the server advertised in its latest EHLO reply (RFC 5321 §4.1.1.1); keywords are
 * case-insensitive. After a HELO fallback nothing is advertised.
 *
 * @param esmtp true when EHLO succeeded
 * @param keywords upper-case keyword to its parameters (may be empty)
 */
public record Capabilities(boolean esmtp, Map<String, String> keywords) {
  public Capabilities {
    keywords = Collections.unmodifiableMap(new LinkedHashMap<>(keywords));
  }

  static Capabilities none() {
    return new Capabilities(false, Map.of());
  }

  /** Parses an EHLO reply: the first line is the server's domain, each later line a keyword. */
  static Capabilities parseEhlo(Reply reply) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 1; i < reply.lines().size(); i++) {
      String line = reply.lines().get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      int sep = indexOfSeparator(line);
      String keyword = (sep < 0 ? line : line.substring(0, sep)).toUpperCase(Locale.ROOT);
      String params = sep < 0 ? "" : line.substring(sep + 1).strip();
      if (keyword.equals("AUTH") && map.containsKey("AUTH")) {
        params = (map.get("AUTH") + " " + params).strip();
      }
      map.put(keyword, params);
    }
    return new Capabilities(true, map);
  }

  private static int indexOfSeparator(String line) {
    int space = line.indexOf(' ');
    int eq = line.regionMatches(true, 0, "AUTH=", 0, 5) ? 4 : -1;
    return eq >= 0 ? eq : space;
  }

  public boolean has(String keyword) {
    return keywords.containsKey(keyword.toUpperCase(Locale.ROOT));
  }

  public boolean pipelining() {
    return has("PIPELINING");
  }

  public boolean startTls() {
    return has("STARTTLS");
  }

  public boolean eightBitMime() {
    return has("8BITMIME");
  }

  public boolean smtpUtf8() {
    return has("SMTPUTF8");
  }

  public boolean dsn() {
    return has("DSN");
  }

  public boolean enhancedStatusCodes() {
    return has("ENHANCEDSTATUSCODES");
  }

  /** True when SIZE is advertised (with or without a limit). */
  public boolean size() {
    return has("SIZE");
  }

  /** The advertised SIZE limit in octets; 0 when none is given or SIZE is not advertised. */
  public long maxSize() {
    String p = keywords.get("SIZE");
    if (p == null || p.isEmpty()) {
      return 0;
    }
    try {
      return Math.max(0, Long.parseLong(p.split(" ")[0]));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Advertised SASL mechanisms, upper case. */
  public Set<String> authMechanisms() {
    String p = keywords.get("AUTH");
    Set<String> out = new TreeSet<>();
    if (p != null) {
      for (String m : p.split("[ =]+")) {
        if (!m.isBlank()) {
          out.add(m.toUpperCase(Locale.ROOT));
        }
      }
    }
    return out;
  }
}
