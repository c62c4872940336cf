package dev.postroom.mx;

import dev.postroom.mx.DnsLookup.Answer;
import dev.postroom.mx.DnsLookup.Failed;
import dev.postroom.mx.DnsLookup.NoRecords;
import dev.postroom.mx.DnsLookup.NxDomain;
import dev.postroom.mx.DnsLookup.Records;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * Resolves a recipient domain to the hosts to deliver to, following RFC 5321 §5.1 and RFC 7505.
 *
 * <p>MX records are ordered by preference, equal preferences shuffled on every call; a domain
 * without MX records is its own (implicit) MX; MX targets without addresses are skipped. Each host
 * carries all its A and AAAA addresses. DNS outcomes never throw: they come back as an {@link
 * MxRoute}. Thread-safe; answers are cached per domain for their TTL, at most {@link
 * #MAX_CACHE_TTL}.
 */
public final class MxResolver {
  public static final Duration MAX_CACHE_TTL = Duration.ofMinutes(5);
  public static final int MAX_CACHE_ENTRIES = 1_000;

  private static final Logger log = LoggerFactory.getLogger(MxResolver.class);
  private static final String IPV6_TAG = "ipv6:";

  private record Resolution(MxRoute route, Duration ttl) {}

  private record HostAddresses(List<InetAddress> addresses, Duration ttl, String failure) {}

  private final DnsLookup dns;
  private final RandomGenerator random;
  private final RouteCache cache;

  public MxResolver(MxSettings settings) {
    this(settings, new Random(), Clock.systemUTC());
  }

  /**
   * @param random shuffles MX hosts of equal preference; a seeded one makes the order repeatable
   * @param clock ages the cache
   */
  public MxResolver(MxSettings settings, RandomGenerator random, Clock clock) {
    this.dns = new DnsLookup(Objects.requireNonNull(settings, "settings"));
    this.random = Objects.requireNonNull(random, "random");
    this.cache =
        new RouteCache(Objects.requireNonNull(clock, "clock"), MAX_CACHE_TTL, MAX_CACHE_ENTRIES);
  }

  /**
   * The route for mail to {@code domain}: a domain name (Unicode or ASCII) or an address literal
   * such as {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}. A name that is not a valid domain
   * gives {@link MxRoute.NoUsableHosts}.
   */
  public MxRoute resolve(String domain) {
    Objects.requireNonNull(domain, "domain");
    if (domain.startsWith("[")) {
      return addressLiteral(domain);
    }
    String ascii;
    try {
      ascii = Idn.toAscii(domain);
    } catch (IllegalArgumentException e) {
      return new MxRoute.NoUsableHosts(domain, e.getMessage());
    }
    MxRoute route =
        cache
            .get(ascii)
            .orElseGet(() -> {
              Resolution resolution = lookUp(ascii);
              cache.put(ascii, resolution.route(), resolution.ttl());
              log.debug("MX route for {}: {}", ascii, resolution.route());
              return resolution.route();
            });
    return route instanceof MxRoute.Hosts hosts ? shuffleEqualPreferences(hosts) : route;
  }

  private Resolution lookUp(String ascii) {
    Name name = DnsLookup.name(ascii);
    Answer mx = dns.query(name, Type.MX);
    return switch (mx) {
      case Records records -> fromMxRecords(ascii, records);
      case NoRecords noRecords -> implicitMx(ascii, name);
      case NxDomain nxDomain -> new Resolution(new MxRoute.NoSuchDomain(ascii), Duration.ZERO);
      case Failed failed -> temporary(ascii, failed.reason());
    };
  }

  private Resolution fromMxRecords(String ascii, Records records) {
    List<MXRecord> mxs =
        records.records().stream()
            .map(MXRecord.class::cast)
            .sorted(Comparator.comparingInt(MXRecord::getPriority))
            .toList();
    MXRecord first = mxs.getFirst();
    if (mxs.size() == 1 && first.getPriority() == 0 && first.getTarget().equals(Name.root)) {
      return new Resolution(new MxRoute.NullMx(ascii), records.ttl());
    }
    Map<Name, Integer> targets = new LinkedHashMap<>();
    for (MXRecord record : mxs) {
      targets.putIfAbsent(record.getTarget(), record.getPriority());
    }
    List<MxHost> hosts = new ArrayList<>();
    List<String> temporary = new ArrayList<>();
    List<String> unresolvable = new ArrayList<>();
    Duration ttl = records.ttl();
    for (Map.Entry<Name, Integer> target : targets.entrySet()) {
      String host = hostName(target.getKey());
      HostAddresses found = target.getKey().equals(Name.root) ? none() : addresses(target.getKey());
      if (!found.addresses().isEmpty()) {
        hosts.add(new MxHost(host, target.getValue(), found.addresses(), false));
        ttl = min(ttl, found.ttl());
      } else if (found.failure() != null) {
        temporary.add(found.failure());
      } else {
        unresolvable.add(host.isEmpty() ? "." : host);
      }
    }
    if (!hosts.isEmpty()) {
      // A host missing for now must not stay missing for a whole TTL.
      return new Resolution(
          new MxRoute.Hosts(ascii, hosts), temporary.isEmpty() ? ttl : Duration.ZERO);
    }
    if (!temporary.isEmpty()) {
      return temporary(
          ascii, "no MX host of " + ascii + " resolved: " + String.join("; ", temporary));
    }
    return new Resolution(
        new MxRoute.NoUsableHosts(
            ascii,
            "no MX host of " + ascii + " has an address: " + String.join(", ", unresolvable)),
        Duration.ZERO);
  }

  private Resolution implicitMx(String ascii, Name name) {
    HostAddresses found = addresses(name);
    if (!found.addresses().isEmpty()) {
      MxHost self = new MxHost(ascii, 0, found.addresses(), true);
      return new Resolution(new MxRoute.Hosts(ascii, List.of(self)), found.ttl());
    }
    if (found.failure() != null) {
      return temporary(ascii, found.failure());
    }
    return new Resolution(
        new MxRoute.NoUsableHosts(ascii, ascii + " has no MX records and no A or AAAA records"),
        Duration.ZERO);
  }

  /**
   * A then AAAA addresses; a failure only when neither family gave an address. A partial answer has
   * TTL zero so that it is not cached.
   */
  private HostAddresses addresses(Name host) {
    List<InetAddress> addresses = new ArrayList<>();
    Duration ttl = MAX_CACHE_TTL;
    List<String> failures = new ArrayList<>();
    for (int type : new int[] {Type.A, Type.AAAA}) {
      switch (dns.query(host, type)) {
        case Records records -> {
          for (Record record : records.records()) {
            addresses.add(
                record instanceof ARecord a ? a.getAddress() : ((AAAARecord) record).getAddress());
          }
          ttl = min(ttl, records.ttl());
        }
        case Failed failed -> failures.add(failed.reason());
        case NoRecords noRecords -> {}
        case NxDomain nxDomain -> {}
      }
    }
    if (!failures.isEmpty() && !addresses.isEmpty()) {
      return new HostAddresses(addresses, Duration.ZERO, null);
    }
    String failure = failures.isEmpty() ? null : String.join("; ", failures);
    return new HostAddresses(addresses, ttl, failure);
  }

  private MxRoute.Hosts shuffleEqualPreferences(MxRoute.Hosts route) {
    List<MxHost> ordered = new ArrayList<>(route.hosts().size());
    List<MxHost> group = new ArrayList<>();
    for (MxHost host : route.hosts()) {
      if (!group.isEmpty() && group.getFirst().preference() != host.preference()) {
        ordered.addAll(shuffled(group));
        group.clear();
      }
      group.add(host);
    }
    ordered.addAll(shuffled(group));
    return new MxRoute.Hosts(route.domain(), ordered);
  }

  private List<MxHost> shuffled(List<MxHost> group) {
    List<MxHost> copy = new ArrayList<>(group);
    if (copy.size() > 1) {
      synchronized (random) {
        Collections.shuffle(copy, random);
      }
    }
    return copy;
  }

  private static MxRoute addressLiteral(String literal) {
    String inner =
        literal.endsWith("]") ? literal.substring(1, literal.length() - 1) : literal.substring(1);
    boolean ipv6 = inner.toLowerCase(Locale.ROOT).startsWith(IPV6_TAG);
    String text = ipv6 ? inner.substring(IPV6_TAG.length()) : inner;
    try {
      if (!literal.endsWith("]")) {
        throw new UnknownHostException(literal);
      }
      InetAddress address = Address.getByAddress(text, ipv6 ? Address.IPv6 : Address.IPv4);
      MxHost host = new MxHost(literal, 0, List.of(address), true);
      return new MxRoute.Hosts(literal, List.of(host));
    } catch (UnknownHostException e) {
      return new MxRoute.NoUsableHosts(
          literal, literal + " is not an address literal like [192.0.2.1] or [IPv6:2001:db8::1]");
    }
  }

  private static Resolution temporary(String ascii, String reason) {
    return new Resolution(new MxRoute.TemporaryFailure(ascii, reason), Duration.ZERO);
  }

  private static HostAddresses none() {
    return new HostAddresses(List.of(), Duration.ZERO, null);
  }

  private static String hostName(Name name) {
    return name.toString(true).toLowerCase(Locale.ROOT);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
