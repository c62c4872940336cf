package dev.postroom.smtp;

import java.util.List;
import java.util.Objects;

/**
 * One SMTP reply.
 *
 * @param code the three-digit reply code
 * @param enhanced the RFC 3463 code if the server sent a valid one whose class matches {@code
 *     code}; null otherwise
 * @param lines the text of each line after the code and separator, as received
 * @param local true when the client made this reply up to describe a local event (lost connection,
 *     timeout, a local check) rather than receiving it
 */
public record Reply(int code, EnhancedCode enhanced, List<String> lines, boolean local) {
  /** At most this many characters of reply text are kept by {@link #text()} consumers. */
  public static final int MAX_TEXT = 4096;

  public Reply {
    if (code < 200 || code > 599) {
      throw new IllegalArgumentException("reply code must be 200-599, got " + code);
    }
    lines = List.copyOf(Objects.requireNonNull(lines, "lines"));
    if (enhanced != null && (enhanced.klass() != code / 100)) {
      throw new IllegalArgumentException(
          "enhanced code " + enhanced + " disagrees with reply code " + code);
    }
  }

  /** A reply the client reports for something that happened locally. */
  public static Reply local(int code, String enhanced, String text) {
    return new Reply(
        code,
        enhanced == null ? null : EnhancedCode.parse(enhanced).orElseThrow(),
        List.of(text),
        true);
  }

  /** The text of all lines joined by a space, with the enhanced code prefix removed. */
  public String text() {
    StringBuilder sb = new StringBuilder();
    String prefix = enhanced == null ? null : enhanced.toString();
    for (String line : lines) {
      String t = line;
      if (prefix != null && (t.equals(prefix) || t.startsWith(prefix + " "))) {
        t = t.substring(prefix.length()).stripLeading();
      }
      if (!sb.isEmpty() && !t.isEmpty()) {
        sb.append(' ');
      }
      sb.append(t);
    }
    return sb.toString();
  }

  /** The enhanced code, or {@code X.0.0} from the reply's class when the server sent none. */
  public EnhancedCode enhancedOrDefault() {
    if (enhanced != null) {
      return enhanced;
    }
    int klass = code / 100;
    return new EnhancedCode(klass == 3 ? 2 : klass, 0, 0);
  }

  public boolean isPositive() {
    return code / 100 == 2;
  }

  public boolean isIntermediate() {
    return code / 100 == 3;
  }

  public boolean isTransientFailure() {
    return code / 100 == 4;
  }

  public boolean isPermanentFailure() {
    return code / 100 == 5;
  }

  @Override
  public String toString() {
    String t = text();
    return code
        + (enhanced == null ? "" : " " + enhanced)
        + (t.isEmpty() ? "" : " " + t)
        + (local ? " (local)" : "");
  }
}
