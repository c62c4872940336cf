package dev.postroom.smtp;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** The name a client gives in EHLO when none is configured (RFC 5321 §4.1.1.1, §4.1.4). */
public final class HeloName {
  private HeloName() {}

  /** This host's fully qualified name when it has one, else its address literal. */
  public static String ofThisHost() {
    try {
      InetAddress local = InetAddress.getLocalHost();
      String name = local.getCanonicalHostName();
      if (name.contains(".") && !name.equals(local.getHostAddress())) {
        return name;
      }
      return local instanceof Inet6Address
          ? "[IPv6:" + local.getHostAddress() + "]"
          : "[" + local.getHostAddress() + "]";
    } catch (UnknownHostException e) {
      return "[127.0.0.1]";
    }
  }
}
