package dev.postroom.mx;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.xbill.DNS.Address;

/**
 * How {@link MxResolver} asks DNS.
 *
 * @param dnsServers recursive resolvers to ask, as IP address and port; empty means the system's
 *     resolvers (from {@code /etc/resolv.conf} or the platform's equivalent)
 * @param timeout how long to wait for one answer from one server. dnsjava notices expired attempts
 *     about once a second, so below a second this mostly bounds the whole lookup, which never takes
 *     longer than {@code timeout × (retries + 1) × servers}
 * @param retries how many more times to ask each server after an attempt that got no answer
 */
public record MxSettings(List<InetSocketAddress> dnsServers, Duration timeout, int retries) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  public static final int DEFAULT_RETRIES = 1;
  public static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);
  public static final int MAX_RETRIES = 10;
  public static final int DNS_PORT = 53;

  public MxSettings {
    Objects.requireNonNull(dnsServers, "dnsServers");
    Objects.requireNonNull(timeout, "timeout");
    dnsServers = List.copyOf(dnsServers);
    for (InetSocketAddress server : dnsServers) {
      if (server.isUnresolved()) {
        throw new IllegalArgumentException("dns_servers entry " + server + " is not an IP address");
      }
    }
    if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "DNS timeout " + timeout + " must be positive and at most " + MAX_TIMEOUT);
    }
    if (retries < 0 || retries > MAX_RETRIES) {
      throw new IllegalArgumentException(
          "DNS retries " + retries + " must be between 0 and " + MAX_RETRIES);
    }
  }

  /** The system's resolvers with the default timeout and retries. */
  public static MxSettings system() {
    return new MxSettings(List.of(), DEFAULT_TIMEOUT, DEFAULT_RETRIES);
  }

  /**
   * The servers of a {@code dns_servers} setting, with the default timeout and retries: a comma
   * separated list of {@code ip:port}, {@code [ipv6]:port}, or an IP alone for port 53, e.g. {@code
   * "127.0.0.1:5353, [::1]:53"}. A blank list means the system's resolvers. Host names are refused:
   * finding the DNS server must not need DNS.
   *
   * @throws IllegalArgumentException quoting the first bad entry
   */
  public static MxSettings parse(String hostPortList) {
    Objects.requireNonNull(hostPortList, "hostPortList");
    List<InetSocketAddress> servers = new ArrayList<>();
    if (!hostPortList.isBlank()) {
      for (String entry : hostPortList.split(",", -1)) {
        servers.add(parseServer(entry.strip()));
      }
    }
    return new MxSettings(servers, DEFAULT_TIMEOUT, DEFAULT_RETRIES);
  }

  public MxSettings withTimeout(Duration timeout) {
    return new MxSettings(dnsServers, timeout, retries);
  }

  public MxSettings withRetries(int retries) {
    return new MxSettings(dnsServers, timeout, retries);
  }

  private static InetSocketAddress parseServer(String entry) {
    if (entry.isEmpty()) {
      throw bad(entry, "is empty");
    }
    String host;
    String port;
    if (entry.startsWith("[")) {
      int close = entry.indexOf(']');
      if (close < 0) {
        throw bad(entry, "lacks the closing ']'");
      }
      host = entry.substring(1, close);
      String rest = entry.substring(close + 1);
      if (!rest.isEmpty() && !rest.startsWith(":")) {
        throw bad(entry, "has \"" + rest + "\" after ']' where ':port' belongs");
      }
      port = rest.isEmpty() ? null : rest.substring(1);
    } else if (entry.indexOf(':') != entry.lastIndexOf(':')) {
      host = entry;
      port = null;
    } else {
      int colon = entry.indexOf(':');
      host = colon < 0 ? entry : entry.substring(0, colon);
      port = colon < 0 ? null : entry.substring(colon + 1);
    }
    return new InetSocketAddress(
        ipAddress(entry, host), port == null ? DNS_PORT : port(entry, port));
  }

  private static InetAddress ipAddress(String entry, String host) {
    try {
      return Address.getByAddress(host);
    } catch (UnknownHostException e) {
      throw bad(entry, "does not start with an IP address (host names are not accepted here)");
    }
  }

  private static int port(String entry, String port) {
    int value;
    try {
      value = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw bad(entry, "has port \"" + port + "\", which is not a number");
    }
    if (value < 1 || value > 0xFFFF) {
      throw bad(entry, "has port " + value + " outside 1..65535");
    }
    return value;
  }

  private static IllegalArgumentException bad(String entry, String why) {
    return new IllegalArgumentException("dns_servers entry \"" + entry + "\" " + why);
  }
}
