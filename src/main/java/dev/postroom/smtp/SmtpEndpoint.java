package dev.postroom.smtp;

import java.util.Objects;

/** Where to connect: host name (or IP literal), TCP port and TLS mode. */
public record SmtpEndpoint(String host, int port, TlsMode tls) {
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
    return host + ":" + port + " (" + tls + ")";
  }
}
