package dev.postroom.mx;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Routes by ASCII domain until their DNS TTL (capped) runs out; least recently used entries go
 * first when full. Only answers with a known TTL are kept: host lists and null MX.
 */
final class RouteCache {
  private record Cached(MxRoute route, Instant expires) {}

  private final Clock clock;
  private final Duration maxTtl;
  private final Map<String, Cached> entries;

  RouteCache(Clock clock, Duration maxTtl, int maxEntries) {
    this.clock = clock;
    this.maxTtl = maxTtl;
    this.entries =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > maxEntries;
          }
        };
  }

  synchronized Optional<MxRoute> get(String domain) {
    Cached entry = entries.get(domain);
    if (entry == null) {
      return Optional.empty();
    }
    if (!clock.instant().isBefore(entry.expires())) {
      entries.remove(domain);
      return Optional.empty();
    }
    return Optional.of(entry.route());
  }

  synchronized void put(String domain, MxRoute route, Duration ttl) {
    if (ttl.isNegative() || ttl.isZero() || maxTtl.isZero()) {
      return;
    }
    Duration kept = ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
    entries.put(domain, new Cached(route, clock.instant().plus(kept)));
  }
}
