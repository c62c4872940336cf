package dev.postroom.smtp;

import java.util.Optional;

/**
 * An enhanced mail system status code (RFC 3463), such as {@code 5.1.1}: class 2, 4 or 5; subject
 * and detail of one to three digits.
 */
public record EnhancedCode(int klass, int subject, int detail) {
  public EnhancedCode {
    if (klass != 2 && klass != 4 && klass != 5) {
      throw new IllegalArgumentException("enhanced code class must be 2, 4 or 5, got " + klass);
    }
    if (subject < 0 || subject > 999 || detail < 0 || detail > 999) {
      throw new IllegalArgumentException(
          "enhanced code subject and detail must be 0-999, got " + subject + "." + detail);
    }
  }

  /** Parses {@code "5.1.1"}; anything else (including leading zeros beyond 3 digits) is empty. */
  public static Optional<EnhancedCode> parse(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 3
        || parts[0].length() != 1
        || !digits(parts[1], 3)
        || !digits(parts[2], 3)
        || !digits(parts[0], 1)) {
      return Optional.empty();
    }
    int klass = parts[0].charAt(0) - '0';
    if (klass != 2 && klass != 4 && klass != 5) {
      return Optional.empty();
    }
    return Optional.of(
        new EnhancedCode(klass, Integer.parseInt(parts[1]), Integer.parseInt(parts[2])));
  }

  private static boolean digits(String s, int max) {
    if (s.isEmpty() || s.length() > max) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return klass + "." + subject + "." + detail;
  }
}
