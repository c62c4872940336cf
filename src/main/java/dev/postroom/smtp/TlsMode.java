package dev.postroom.smtp;

/** How a connection uses TLS. */
public enum TlsMode {
  /** Plaintext only; STARTTLS is never sent. */
  NONE,
  /** STARTTLS when the server offers it, plaintext otherwise (RFC 7435 opportunistic). */
  STARTTLS,
  /** STARTTLS or nothing: no MAIL and no AUTH unless the upgrade succeeds (RFC 3207). */
  STARTTLS_REQUIRED,
  /** TLS from the first byte (RFC 8314, usually port 465). */
  IMPLICIT;

  /** Whether a session in this mode may carry mail only when encrypted. */
  public boolean requiresTls() {
    return this == STARTTLS_REQUIRED || this == IMPLICIT;
  }
}
