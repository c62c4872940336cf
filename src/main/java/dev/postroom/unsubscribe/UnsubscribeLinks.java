package dev.postroom.unsubscribe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * The List-Unsubscribe and List-Unsubscribe-Post headers (RFC 2369, RFC 8058) of a list mail, from
 * the settings {@code unsubscribe_url} and {@code unsubscribe_mailto} (re-read every {@link
 * #REFRESH}) and the secret in {@code mail.unsubscribe_secret} (read once).
 */
public final class UnsubscribeLinks {
  public static final Duration REFRESH = Duration.ofSeconds(30);

  private record Settings(Instant readAt, String url, String mailto) {}

  private final Jdbi jdbi;
  private final Clock clock;
  private volatile UnsubscribeToken tokens;
  private volatile Settings settings;

  public UnsubscribeLinks(Jdbi jdbi, Clock clock) {
    this.jdbi = jdbi;
    this.clock = clock;
  }

  /**
   * The headers naming {@code address} of mail {@code mailId} of profile {@code profileId}; empty
   * when {@code unsubscribe_url} is not configured (any more: enqueue requires it).
   */
  public Map<String, String> headers(int profileId, long mailId, String address) {
    Settings s = settings();
    Map<String, String> headers = new LinkedHashMap<>();
    if (s.url() == null) {
      return headers;
    }
    String token = tokens().create(profileId, mailId, address);
    String value = "<" + s.url() + "/" + token + ">";
    if (s.mailto() != null) {
      value += ", <mailto:" + s.mailto() + "?subject=unsubscribe%20" + token + ">";
    }
    headers.put("List-Unsubscribe", value);
    headers.put("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    return headers;
  }

  UnsubscribeToken tokens() {
    UnsubscribeToken t = tokens;
    if (t == null) {
      t = new UnsubscribeToken(secret(jdbi));
      tokens = t;
    }
    return t;
  }

  static byte[] secret(Jdbi jdbi) {
    return jdbi.withHandle(
        h -> h.createQuery("SELECT secret FROM mail.unsubscribe_secret").mapTo(byte[].class).one());
  }

  private Settings settings() {
    Settings s = settings;
    Instant now = clock.instant();
    if (s == null || !now.isBefore(s.readAt().plus(REFRESH))) {
      s =
          jdbi.withHandle(h ->
              h.createQuery(
                      "SELECT max(coalesce(value, default_value)) FILTER (WHERE name = 'unsubscribe_url'),"
                          + " max(coalesce(value, default_value)) FILTER"
                          + " (WHERE name = 'unsubscribe_mailto')"
                          + " FROM mail.setting WHERE name IN ('unsubscribe_url', 'unsubscribe_mailto')")
                  .map((rs, ctx) -> new Settings(now, rs.getString(1), rs.getString(2)))
                  .one());
      settings = s;
    }
    return s;
  }
}
