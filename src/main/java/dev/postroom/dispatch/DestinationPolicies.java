package dev.postroom.dispatch;

import java.util.Locale;
import java.util.Map;

/**
 * The destination policies ({@code mail.add_destination_policy}) as last read, and which one a
 * recipient domain falls under: its own exact policy, else the longest {@code *.parent} policy
 * covering it ({@code *.example.com} covers {@code a.example.com} and {@code b.a.example.com}, not
 * {@code example.com}), else none, and the domain is its own scope.
 */
record DestinationPolicies(Map<String, Policy> byDomain) {
  static final DestinationPolicies NONE = new DestinationPolicies(Map.of());

  /** One policy row; null limits do not limit. */
  record Policy(String domain, Integer maxConnections, Integer ratePerMinute) {}

  DestinationPolicies {
    byDomain = Map.copyOf(byDomain);
  }

  /** The scope a recipient domain is limited and paused under. */
  SharedLimits.Scope scopeFor(String domain) {
    String d = domain.toLowerCase(Locale.ROOT);
    Policy p = byDomain.get(d);
    for (int dot = d.indexOf('.'); p == null && dot >= 0; dot = d.indexOf('.', dot + 1)) {
      p = byDomain.get("*" + d.substring(dot));
    }
    return p == null
        ? SharedLimits.Scope.destination(d, null, null)
        : SharedLimits.Scope.destination(p.domain(), p.maxConnections(), p.ratePerMinute());
  }
}
