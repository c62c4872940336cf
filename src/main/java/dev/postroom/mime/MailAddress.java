package dev.postroom.mime;

import java.net.IDN;
import java.nio.charset.StandardCharsets;

/**
 * A mailbox: the address and an optional display name (any Unicode text; encoded on the way out).
 *
 * @param address the addr-spec, e.g. {@code ann@example.com}; never blank, no angle brackets or
 *     line breaks
 * @param displayName the name shown by mail programs, or null; a blank name counts as none
 */
public record MailAddress(String address, String displayName) {

  public MailAddress {
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException("address must not be blank");
    }
    address = address.strip();
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == 0x7f) {
        throw new IllegalArgumentException(
            "address must be a bare addr-spec without spaces, brackets or separators: " + address);
      }
    }
    if (displayName != null && displayName.isBlank()) {
      displayName = null;
    }
    HeaderText.requireSingleLine("displayName", displayName);
  }

  /**
   * Why Postroom cannot carry {@code address} (an addr-spec), or null when it can: the rule that
   * {@code mail.is_valid_address} applies at enqueue (sql/R__3_addresses.sql), so that nothing SQL
   * accepts fails later in the composer or on the SMTP command line. A dot-atom or quoted local
   * part (the quoted one without space, quote, backslash, comma, semicolon or angle brackets), at
   * most 64 octets; a domain name that IDNA (STD3 rules) converts, at most 255 octets; no address
   * literal; no control character. A non-ASCII local part is accepted (it needs SMTPUTF8 on the
   * way).
   */
  public static String problem(String address) {
    if (address == null || address.isEmpty()) {
      return "the address is empty";
    }
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (c <= ' ' || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
        return "the address contains a space or control character at index " + i;
      }
      if (c == '<' || c == '>' || c == ',' || c == ';' || c == '\\') {
        return "the address contains '" + c + "'";
      }
    }
    int at = address.lastIndexOf('@');
    if (at < 1 || at == address.length() - 1) {
      return "the address is not local-part@domain";
    }
    String local = address.substring(0, at);
    String domain = address.substring(at + 1);
    if (local.getBytes(StandardCharsets.UTF_8).length > 64) {
      return "the local part is longer than 64 octets";
    }
    if (local.startsWith("\"")) {
      if (local.length() < 2
          || !local.endsWith("\"")
          || local.substring(1, local.length() - 1).contains("\"")) {
        return "the quoted local part is malformed";
      }
    } else if (!local.matches("[^.\"@()\\[\\]:]+(\\.[^.\"@()\\[\\]:]+)*")) {
      return "the local part is neither a dot-atom nor a quoted string";
    }
    if (domain.startsWith("[")) {
      return "address literals like " + domain + " are not accepted";
    }
    if (domain.getBytes(StandardCharsets.UTF_8).length > 255) {
      return "the domain is longer than 255 octets";
    }
    String ascii;
    try {
      ascii = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES | IDN.ALLOW_UNASSIGNED);
    } catch (IllegalArgumentException e) {
      return "the domain is not a valid host name: " + e.getMessage();
    }
    if (ascii.isEmpty() || ascii.endsWith(".") || ascii.length() > 253) {
      return "the domain is not a valid host name";
    }
    return null;
  }

  /** An address without a display name. */
  public static MailAddress of(String address) {
    return new MailAddress(address, null);
  }
}
