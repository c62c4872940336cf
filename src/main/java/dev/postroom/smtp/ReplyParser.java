package dev.postroom.smtp;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns reply lines (without CRLF) into {@link Reply} values (RFC 5321 §4.2, RFC 2034 §4).
 *
 * <p>Accepted: {@code xyz-text} continuation lines, a last line {@code xyz text} or a bare {@code
 * xyz}; x 2-5, y and z any digit (codes outside RFC 5321's list, such as 254, 477 or 599, are kept
 * with their text and judged by their first digit, RFC 5321 §4.2.1). Every line must carry the same
 * code. Anything else is garbage and raises {@link ReplySyntaxException}, quoting the line; a
 * garbage first line raises the subclass {@link MalformedLine}: the line was read whole, so the
 * reply stream is still aligned and a caller may blame only the command it answered. Sizes are
 * bounded so a hostile server cannot exhaust memory.
 */
final class ReplyParser {
  /** Longest reply line accepted, in octets without CRLF (RFC 5321 requires at least 512). */
  static final int MAX_LINE = 8192;

  /** Most lines in one reply (an EHLO reply has a few dozen at most). */
  static final int MAX_LINES = 100;

  private final List<String> texts = new ArrayList<>();
  private int code = -1;
  private boolean complete;

  /**
   * Feeds one line; returns true when it ended the reply.
   *
   * @throws ReplySyntaxException for a malformed line, a changed code or too many lines
   */
  boolean accept(String line) throws ReplySyntaxException {
    if (complete) {
      throw new IllegalStateException("reply already complete");
    }
    if (line.length() < 3 || !isCode(line) || (line.length() > 3 && !isSeparator(line))) {
      if (code < 0) {
        throw new MalformedLine("malformed reply line: " + quote(line));
      }
      throw new ReplySyntaxException("malformed reply line: " + quote(line));
    }
    boolean last;
    String text;
    if (line.length() == 3) {
      last = true;
      text = "";
    } else if (line.charAt(3) == ' ') {
      last = true;
      text = line.substring(4);
    } else {
      last = false;
      text = line.substring(4);
    }
    int lineCode = Integer.parseInt(line.substring(0, 3));
    if (code >= 0 && lineCode != code) {
      throw new ReplySyntaxException(
          "reply code changed from " + code + " to " + lineCode + " within one reply");
    }
    code = lineCode;
    if (texts.size() >= MAX_LINES) {
      throw new ReplySyntaxException("reply has more than " + MAX_LINES + " lines");
    }
    texts.add(text);
    complete = last;
    return last;
  }

  Reply reply() {
    if (!complete) {
      throw new IllegalStateException("reply not complete");
    }
    return new Reply(code, enhancedCode(code, texts.get(0)), texts, false);
  }

  /** Parses a whole reply from its lines; for tests and simple callers. */
  static Reply parse(List<String> lines) throws ReplySyntaxException {
    ReplyParser parser = new ReplyParser();
    for (int i = 0; i < lines.size(); i++) {
      boolean last = parser.accept(lines.get(i));
      if (last != (i == lines.size() - 1)) {
        throw new ReplySyntaxException("reply ends at line " + (i + 1) + " of " + lines.size());
      }
    }
    return parser.reply();
  }

  /**
   * The enhanced code at the start of {@code text} when it is valid and its class matches the reply
   * (RFC 2034 §4, RFC 3463 §2); 3xx replies carry none.
   */
  static EnhancedCode enhancedCode(int code, String text) {
    int klass = code / 100;
    if (klass == 3) {
      return null;
    }
    int end = text.indexOf(' ');
    String candidate = end < 0 ? text : text.substring(0, end);
    return EnhancedCode.parse(candidate).filter(e -> e.klass() == klass).orElse(null);
  }

  private static boolean isCode(String line) {
    char a = line.charAt(0);
    char b = line.charAt(1);
    char c = line.charAt(2);
    return a >= '2' && a <= '5' && b >= '0' && b <= '9' && c >= '0' && c <= '9';
  }

  private static boolean isSeparator(String line) {
    return line.charAt(3) == ' ' || line.charAt(3) == '-';
  }

  /** A first reply line that is not {@code DDD[ -]…}; the stream is still aligned after it. */
  static final class MalformedLine extends ReplySyntaxException {
    MalformedLine(String message) {
      super(message);
    }
  }

  static String quote(String line) {
    String cut = line.length() > 80 ? line.substring(0, 80) + "..." : line;
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < cut.length(); i++) {
      char ch = cut.charAt(i);
      sb.append(ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
    return sb.append('"').toString();
  }
}
