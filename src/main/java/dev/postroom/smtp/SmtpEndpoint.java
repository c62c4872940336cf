package dev.postroom.smtp;

import java.net.InetAddress;
import java.util.Objects;

/**
 * Where to connect: host name (or IP literal), TCP port and TLS mode.
 *
 * @param address the address to connect to, as an MX lookup found it; null: resolve {@code host}
 *     with the system resolver. The certificate is always verified against {@code host}.
 */
public record SmtpEndpoint(String host, int port, TlsMode tls, InetAddress address) {
  public SmtpEndpoint(String host, int port, TlsMode tls) {
    this(host, port, tls, null);
  }

  public SmtpEndpoint {
    Objects.requireNonNull(tls, "tls");
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("SMTP host must not be blank");
    }
    if (!host.equals(host.strip()) || host.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException(
          "SMTP host contains spaces or control characters: " + host);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("SMTP port must be 1-65535, got " + port);
    }
  }

  @Override
  public String toString() {
    return (address == null ? host : host + " [" + address.getHostAddress() + "]")
        + ":"
        + port
        + " ("
        + tls
        + ")";
  }
}
