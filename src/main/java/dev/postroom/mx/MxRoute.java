package dev.postroom.mx;

import java.util.List;
import java.util.Objects;

/**
 * Where mail for one recipient domain goes, as {@link MxResolver#resolve(String)} found it: hosts
 * to try in order, or the reason there are none. Every variant other than {@link Hosts} carries the
 * RFC 3463 enhanced status code the delivery outcome should record.
 */
public sealed interface MxRoute {

  /** The domain looked up, in ASCII (IDNA) form, or the address literal as given. */
  String domain();

  /**
   * Hosts to connect to, in try order: each host's addresses are all tried before the next host.
   */
  record Hosts(String domain, List<MxHost> hosts) implements MxRoute {
    public Hosts {
      Objects.requireNonNull(domain, "domain");
      hosts = List.copyOf(hosts);
      if (hosts.isEmpty()) {
        throw new IllegalArgumentException("a route for " + domain + " needs at least one host");
      }
    }
  }

  /** The domain publishes RFC 7505 null MX ({@code MX 0 .}): it accepts no mail. Permanent. */
  record NullMx(String domain) implements MxRoute {
    public static final String ENHANCED_STATUS = "5.1.10";

    public NullMx {
      Objects.requireNonNull(domain, "domain");
    }
  }

  /** The domain does not exist (NXDOMAIN). Permanent. */
  record NoSuchDomain(String domain) implements MxRoute {
    public static final String ENHANCED_STATUS = "5.1.2";

    public NoSuchDomain {
      Objects.requireNonNull(domain, "domain");
    }
  }

  /**
   * The domain exists but no host to deliver to resolves to an address (MX targets without A/AAAA,
   * or no MX and no address of its own), or the domain is not a valid name. Permanent.
   */
  record NoUsableHosts(String domain, String reason) implements MxRoute {
    public static final String ENHANCED_STATUS = "5.4.4";

    public NoUsableHosts {
      Objects.requireNonNull(domain, "domain");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** DNS could not answer now (SERVFAIL, timeout, network error). Deliver later. */
  record TemporaryFailure(String domain, String reason) implements MxRoute {
    public static final String ENHANCED_STATUS = "4.4.3";

    public TemporaryFailure {
      Objects.requireNonNull(domain, "domain");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
