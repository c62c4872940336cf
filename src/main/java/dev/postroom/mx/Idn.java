package dev.postroom.mx;

import java.net.IDN;
import java.util.Locale;
import java.util.Objects;

/**
 * International domain names and addresses. Domains go to DNS and into SMTP envelopes in their
 * ASCII form (IDNA as {@link java.net.IDN} implements it, that is IDNA 2003 with STD3 rules); a
 * non-ASCII local part can only be sent to a server offering SMTPUTF8 (RFC 6531).
 */
public final class Idn {
  private static final int MAX_DOMAIN_LENGTH = 253;
  private static final int MAX_LABEL_LENGTH = 63;

  private Idn() {}

  /**
   * The ASCII form of a domain, lower case, without a trailing dot: {@code "Bücher.Example"} gives
   * {@code "xn--bcher-kva.example"}.
   *
   * @throws IllegalArgumentException naming the domain when it is not a valid host name
   */
  public static String toAscii(String domain) {
    Objects.requireNonNull(domain, "domain");
    String name = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
    if (name.isEmpty()) {
      throw invalid(domain, "it is empty");
    }
    String ascii;
    try {
      ascii = IDN.toASCII(name, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw invalid(domain, e.getMessage());
    }
    if (ascii.length() > MAX_DOMAIN_LENGTH) {
      throw invalid(domain, "it is longer than " + MAX_DOMAIN_LENGTH + " characters");
    }
    for (String label : ascii.split("\\.", -1)) {
      if (label.isEmpty()) {
        throw invalid(domain, "it has an empty label");
      }
      if (label.length() > MAX_LABEL_LENGTH) {
        throw invalid(domain, "a label is longer than " + MAX_LABEL_LENGTH + " characters");
      }
    }
    return ascii;
  }

  /**
   * Whether sending to or from this address needs the SMTPUTF8 extension: true when its local part
   * (before the last {@code @}) has a non-ASCII character. A non-ASCII domain does not count, since
   * it can be sent in its {@link #toAscii ASCII form}.
   *
   * @throws IllegalArgumentException when the address has no {@code @}
   */
  public static boolean needsSmtpUtf8(String address) {
    Objects.requireNonNull(address, "address");
    int at = address.lastIndexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException("\"" + address + "\" is not a mail address: no '@'");
    }
    return address.substring(0, at).chars().anyMatch(c -> c > 0x7F);
  }

  private static IllegalArgumentException invalid(String domain, String why) {
    return new IllegalArgumentException("\"" + domain + "\" is not a valid domain name: " + why);
  }
}
