package dev.postroom.mx;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.ResolverConfig;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * One DNS question answered as a value. dnsjava's {@link Lookup} follows CNAME chains; dnsjava's
 * own cache and the hosts file are bypassed, so every answer comes from the configured servers.
 */
final class DnsLookup {

  sealed interface Answer {}

  /** Records of the asked type (after any CNAMEs), and the smallest of their TTLs. */
  record Records(List<Record> records, Duration ttl) implements Answer {}

  /** NOERROR without records of the asked type (NODATA). */
  record NoRecords() implements Answer {}

  /** NXDOMAIN. */
  record NxDomain() implements Answer {}

  /** No usable answer now: SERVFAIL, REFUSED, timeout, network error, CNAME loop. */
  record Failed(String reason) implements Answer {}

  private final Resolver resolver;

  DnsLookup(MxSettings settings) {
    List<InetSocketAddress> servers =
        settings.dnsServers().isEmpty()
            ? ResolverConfig.getCurrentConfig().servers()
            : settings.dnsServers();
    List<Resolver> resolvers = new ArrayList<>();
    for (InetSocketAddress server : servers) {
      resolvers.add(new SimpleResolver(server));
    }
    ExtendedResolver extended = new ExtendedResolver(resolvers);
    // ExtendedResolver resets each server's timeout, counts attempts (not retries) per server,
    // and bounds the whole resolution with a timeout of its own.
    int attempts = settings.retries() + 1;
    for (Resolver r : extended.getResolvers()) {
      r.setTimeout(settings.timeout());
    }
    extended.setRetries(attempts);
    extended.setTimeout(
        settings.timeout().multipliedBy((long) attempts * Math.max(1, resolvers.size())));
    this.resolver = extended;
  }

  static Name name(String asciiDomain) {
    try {
      return Name.fromString(asciiDomain, Name.root);
    } catch (TextParseException e) {
      throw new IllegalArgumentException(
          "\"" + asciiDomain + "\" is not a valid domain name: " + e.getMessage(), e);
    }
  }

  Answer query(Name name, int type) {
    Lookup lookup = new Lookup(name, type);
    lookup.setResolver(resolver);
    lookup.setCache(null);
    lookup.setHostsFileParser(null);
    lookup.run();
    return switch (lookup.getResult()) {
      case Lookup.SUCCESSFUL -> records(lookup.getAnswers(), type);
      case Lookup.TYPE_NOT_FOUND -> new NoRecords();
      case Lookup.HOST_NOT_FOUND -> new NxDomain();
      default ->
          new Failed(
              Type.string(type) + " lookup of " + name.toString(true) + ": " + error(lookup));
    };
  }

  /** dnsjava reports a timeout as a network error; neither says more than "no answer". */
  private static String error(Lookup lookup) {
    String error = lookup.getErrorString();
    return switch (error) {
      case "timed out", "network error" -> "no answer (timed out or network error)";
      default -> error;
    };
  }

  private static Answer records(Record[] answers, int type) {
    List<Record> matching = Arrays.stream(answers).filter(r -> r.getType() == type).toList();
    if (matching.isEmpty()) {
      return new NoRecords();
    }
    long ttl = matching.stream().mapToLong(Record::getTTL).min().orElse(0);
    return new Records(matching, Duration.ofSeconds(ttl));
  }
}
