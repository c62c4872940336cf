package dev.postroom.smtp;

/** Checks for values placed on SMTP command lines (RFC 5321 §4.1.2, research checklist E6/E8). */
final class Addresses {
  /** RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets. */
  static final int MAX_PATH = 254;

  private Addresses() {}

  static void check(String what, String address) {
    if (address == null || address.isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException(
            what + " contains a control character (CR, LF, NUL or similar) at index " + i);
      }
      if (c == '<' || c == '>' || c == ' ') {
        throw new IllegalArgumentException(what + " contains '" + c + "': " + address);
      }
    }
    if (address.indexOf('@') < 1 && !address.equalsIgnoreCase("postmaster")) {
      throw new IllegalArgumentException(what + " is not an address: " + address);
    }
  }

  /** Refuses command arguments that could end or split a command line. */
  static void checkArgument(String what, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\r' || c == '\n' || c == '\0') {
        throw new IllegalArgumentException(what + " contains CR, LF or NUL at index " + i);
      }
    }
  }

  static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** RFC 3461 §4 xtext: '+', '=' and bytes outside 33-126 become "+XX". */
  static String xtext(String value) {
    StringBuilder sb = new StringBuilder();
    for (byte b : value.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c < 33 || c > 126 || c == '+' || c == '=') {
        sb.append('+').append(String.format("%02X", c));
      } else {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }
}
