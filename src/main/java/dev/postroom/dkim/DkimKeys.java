package dev.postroom.dkim;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing keys of {@code mail.dkim_key}, by domain, newest first, re-read every {@link
 * #REFRESH} so that added and dropped keys take effect without a restart. With the {@code
 * dkim_sign_all_keys} setting every key of a domain signs (during a rotation), else the newest. A
 * key the JDK cannot use is skipped with a warning naming it (never its contents).
 */
public final class DkimKeys implements Function<String, List<DkimKey>> {
  private static final Logger log = LoggerFactory.getLogger(DkimKeys.class);

  public static final Duration REFRESH = Duration.ofSeconds(30);

  private record Snapshot(Instant readAt, Map<String, List<DkimKey>> byDomain) {}

  private final Jdbi jdbi;
  private final Clock clock;
  private volatile Snapshot snapshot;

  public DkimKeys(Jdbi jdbi, Clock clock) {
    this.jdbi = jdbi;
    this.clock = clock;
  }

  @Override
  public List<DkimKey> apply(String domain) {
    Snapshot s = snapshot;
    if (stale(s)) {
      synchronized (this) {
        s = snapshot;
        if (stale(s)) {
          s = read();
        }
      }
    }
    return s.byDomain().getOrDefault(domain, List.of());
  }

  /** Reads the keys now, e.g. right after adding one. */
  public synchronized void refresh() {
    read();
  }

  private boolean stale(Snapshot s) {
    return s == null || !clock.instant().isBefore(s.readAt().plus(REFRESH));
  }

  private Snapshot read() {
    Instant now = clock.instant();
    Map<String, List<DkimKey>> byDomain = new HashMap<>();
    jdbi.useHandle(h -> {
      boolean all =
          h.createQuery(
                  "SELECT coalesce(value, default_value)::boolean FROM mail.setting"
                      + " WHERE name = 'dkim_sign_all_keys'")
              .mapTo(Boolean.class)
              .findOne()
              .orElse(false);
      h.createQuery(
              "SELECT domain, selector, algorithm, private_key, created_at FROM mail.dkim_key"
                  + " ORDER BY domain, created_at DESC, id DESC")
          .map((rs, ctx) -> {
            String domain = rs.getString("domain");
            String selector = rs.getString("selector");
            try {
              return DkimKey.of(
                  domain,
                  selector,
                  DkimAlgorithm.ofTag(rs.getString("algorithm")),
                  rs.getBytes("private_key"),
                  rs.getTimestamp("created_at").toInstant());
            } catch (IllegalArgumentException e) {
              log.warn("DKIM key skipped: {}", e.getMessage());
              return null;
            }
          })
          .forEach(key -> {
            if (key == null) {
              return;
            }
            List<DkimKey> list = byDomain.computeIfAbsent(key.domain(), d -> new ArrayList<>());
            if (all || list.isEmpty()) {
              list.add(key);
            }
          });
    });
    byDomain.replaceAll((d, list) -> List.copyOf(list));
    Snapshot fresh = new Snapshot(now, Map.copyOf(byDomain));
    snapshot = fresh;
    return fresh;
  }
}
