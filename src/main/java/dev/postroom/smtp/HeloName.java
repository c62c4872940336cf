package dev.postroom.smtp;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The name a client gives in EHLO when none is configured (RFC 5321 §4.1.1.1, §4.1.4): the host's
 * fully qualified domain name, as Postfix's {@code myhostname} is; an address literal only when no
 * such name can be found.
 */
public final class HeloName {
  private static final Pattern FQDN =
      Pattern.compile(
          "(?i)(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+");

  private HeloName() {}

  /**
   * In order: the host name when it is already fully qualified; its canonical name (the resolver's
   * answer for it, as {@code hostname -f}); the reverse name of an address of a network interface
   * that is not loopback; that address as a literal; {@code [127.0.0.1]}.
   */
  public static String ofThisHost() {
    String hostName = null;
    String canonical = null;
    try {
      InetAddress local = InetAddress.getLocalHost();
      hostName = local.getHostName();
      canonical = local.getCanonicalHostName();
    } catch (UnknownHostException e) {
      // no name for this host: fall through to the interfaces
    }
    return choose(hostName, canonical, interfaceAddresses(), InetAddress::getCanonicalHostName);
  }

  /** The rule of {@link #ofThisHost()}, with its inputs given (for tests). */
  static String choose(
      String hostName,
      String canonicalName,
      List<InetAddress> interfaceAddresses,
      Function<InetAddress, String> reverse) {
    for (String candidate : new String[] {hostName, canonicalName}) {
      if (isFqdn(candidate)) {
        return candidate.toLowerCase(Locale.ROOT);
      }
    }
    List<InetAddress> usable = new ArrayList<>();
    for (InetAddress a : interfaceAddresses) {
      if (!a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress()) {
        usable.add(a);
      }
    }
    usable.sort((a, b) -> Boolean.compare(b instanceof Inet4Address, a instanceof Inet4Address));
    for (InetAddress a : usable) {
      String name = reverse.apply(a);
      if (isFqdn(name)) {
        return name.toLowerCase(Locale.ROOT);
      }
    }
    if (!usable.isEmpty()) {
      return literal(usable.get(0));
    }
    return "[127.0.0.1]";
  }

  /** A name with at least two labels that is not an IPv4 address written as a name. */
  static boolean isFqdn(String name) {
    return name != null
        && FQDN.matcher(name).matches()
        && !name.chars().allMatch(c -> c == '.' || Character.isDigit(c))
        && !name.toLowerCase(Locale.ROOT).endsWith(".localdomain")
        && !name.equalsIgnoreCase("localhost.localdomain");
  }

  private static String literal(InetAddress a) {
    return a instanceof Inet6Address
        ? "[IPv6:" + a.getHostAddress().replaceAll("%.*$", "") + "]"
        : "[" + a.getHostAddress() + "]";
  }

  private static List<InetAddress> interfaceAddresses() {
    List<InetAddress> out = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (nif.isUp() && !nif.isLoopback()) {
          out.addAll(Collections.list(nif.getInetAddresses()));
        }
      }
    } catch (SocketException | RuntimeException e) {
      // no interfaces to look at: the caller falls back to the loopback literal
    }
    return out;
  }
}
