package dev.postroom.mime;

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

  /** An address without a display name. */
  public static MailAddress of(String address) {
    return new MailAddress(address, null);
  }
}
