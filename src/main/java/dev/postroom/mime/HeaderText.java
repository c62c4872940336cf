package dev.postroom.mime;

import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import java.io.UnsupportedEncodingException;
import java.net.IDN;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Header values as they go on the wire: RFC 2047 encoded where not plain ASCII, folded below 78
 * characters wherever there is whitespace to fold at, and never a line over 998.
 */
final class HeaderText {

  static final String CHARSET = "UTF-8";

  /** Longest run without whitespace we leave unencoded; longer ones become encoded words. */
  private static final int LONGEST_PLAIN_WORD = 900;

  private static final DateTimeFormatter RFC_5322_DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss xx", Locale.US)
          .withZone(ZoneOffset.UTC);

  private HeaderText() {}

  static void requireSingleLine(String what, String value) {
    if (value != null && (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0)) {
      throw new IllegalArgumentException(what + " must not contain CR or LF");
    }
  }

  static void requireNoControls(String what, String value) {
    if (value != null && value.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
      throw new IllegalArgumentException(what + " must not contain control characters");
    }
  }

  /** An RFC 5322 date-time in UTC, e.g. {@code Sat, 28 Nov 2026 15:30:21 +0000}. */
  static String date(Instant instant) {
    return RFC_5322_DATE.format(instant);
  }

  /** Unstructured text (Subject, most extra headers), encoded if needed and folded. */
  static String unstructured(String headerName, String value) {
    String encoded;
    try {
      if (isPrintableAscii(value) && longestWord(value) <= LONGEST_PLAIN_WORD) {
        encoded = value;
      } else if (isPrintableAscii(value)) {
        encoded = asciiEncodedWords(value);
      } else {
        encoded = MimeUtility.encodeText(value, CHARSET, null);
      }
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException("UTF-8 is always supported", e);
    }
    return MimeUtility.fold(headerName.length() + 2, encoded);
  }

  /**
   * ASCII text as a sequence of Q encoded words, so that an over-long word can be folded (Jakarta
   * Mail leaves ASCII unencoded).
   */
  private static String asciiEncodedWords(String value) {
    StringBuilder words = new StringBuilder();
    for (int start = 0; start < value.length(); start += 40) {
      words.append(words.isEmpty() ? "" : " ").append("=?UTF-8?Q?");
      for (char c : value.substring(start, Math.min(value.length(), start + 40)).toCharArray()) {
        if (c == ' ') {
          words.append('_');
        } else if (Character.isLetterOrDigit(c)) {
          words.append(c);
        } else {
          words.append('=').append(String.format("%02X", (int) c));
        }
      }
      words.append("?=");
    }
    return words.toString();
  }

  /** An address-list value, display names encoded, folded between and inside mailboxes. */
  static String addressList(String headerName, List<MailAddress> addresses) {
    InternetAddress[] converted =
        addresses.stream().map(HeaderText::internet).toList().toArray(InternetAddress[]::new);
    return MimeUtility.fold(headerName.length() + 2, InternetAddress.toString(converted));
  }

  static InternetAddress internet(MailAddress address) {
    String ascii = asciiAddress(address.address());
    try {
      return new InternetAddress(ascii, address.displayName(), CHARSET);
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException("UTF-8 is always supported", e);
    }
  }

  /**
   * The address with an internationalized domain in its ASCII (punycode) form. A non-ASCII local
   * part cannot be written without SMTPUTF8, which the composer does not produce.
   */
  static String asciiAddress(String address) {
    int at = address.lastIndexOf('@');
    String local = at < 0 ? address : address.substring(0, at);
    if (!isPrintableAscii(local)) {
      throw new IllegalArgumentException(
          "a non-ASCII local part needs SMTPUTF8, which is not supported: " + address);
    }
    if (at < 0) {
      return address;
    }
    String domain = address.substring(at + 1);
    return isPrintableAscii(domain)
        ? address
        : local + "@" + IDN.toASCII(domain, IDN.ALLOW_UNASSIGNED);
  }

  static boolean isPrintableAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < ' ' && c != '\t') || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  private static int longestWord(String s) {
    int longest = 0;
    int current = 0;
    for (int i = 0; i < s.length(); i++) {
      current = Character.isWhitespace(s.charAt(i)) ? 0 : current + 1;
      longest = Math.max(longest, current);
    }
    return longest;
  }
}
