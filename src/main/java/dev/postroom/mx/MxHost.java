package dev.postroom.mx;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * One mail exchanger to connect to.
 *
 * @param name the host name in ASCII form without trailing dot (the MX target, the domain itself
 *     when {@code implicit}, or the address literal such as {@code [192.0.2.1]})
 * @param preference the MX preference (0 for an implicit MX or an address literal)
 * @param addresses IPv4 addresses first, then IPv6; all are to be tried before the next host
 * @param implicit true when the domain has no MX records and is its own mail exchanger (RFC 5321
 *     §5.1), or the recipient named an address literal
 */
public record MxHost(String name, int preference, List<InetAddress> addresses, boolean implicit) {
  public MxHost {
    Objects.requireNonNull(name, "name");
    if (preference < 0 || preference > 0xFFFF) {
      throw new IllegalArgumentException(
          "MX preference " + preference + " of " + name + " is outside 0..65535");
    }
    addresses = List.copyOf(addresses);
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("MX host " + name + " needs at least one address");
    }
  }
}
