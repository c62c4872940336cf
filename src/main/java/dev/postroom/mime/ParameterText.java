package dev.postroom.mime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Header values with a file name parameter. Plain short ASCII names are written as a quoted string;
 * anything else in RFC 2231 form ({@code filename*=UTF-8''...}), split into numbered continuations
 * so that no line grows past 78 characters.
 */
final class ParameterText {

  private static final int SEGMENT = 60;
  private static final String ATTR_CHARS = "!#$&+-.^_`|~";

  private ParameterText() {}

  /**
   * {@code value} (e.g. "attachment" or "image/png") followed by {@code name=filename}, for a
   * header whose name takes {@code used} characters including the colon and space.
   */
  static String with(int used, String value, String name, String filename) {
    List<String> parameters = new ArrayList<>();
    if (isPlain(filename)) {
      parameters.add(name + "=\"" + filename + "\"");
    } else {
      List<String> segments = segments(percentEncoded(filename));
      if (segments.size() == 1) {
        parameters.add(name + "*=UTF-8''" + segments.getFirst());
      } else {
        for (int i = 0; i < segments.size(); i++) {
          parameters.add(name + "*" + i + "*=" + (i == 0 ? "UTF-8''" : "") + segments.get(i));
        }
      }
    }
    StringBuilder header = new StringBuilder(value);
    int line = used + value.length();
    for (String parameter : parameters) {
      if (line + parameter.length() + 2 <= 76) {
        header.append("; ").append(parameter);
        line += parameter.length() + 2;
      } else {
        header.append(";\r\n ").append(parameter);
        line = parameter.length() + 1;
      }
    }
    return header.toString();
  }

  private static boolean isPlain(String filename) {
    return filename.length() <= SEGMENT
        && filename.chars().allMatch(c -> c >= ' ' && c < 0x7f && c != '"' && c != '\\');
  }

  private static String percentEncoded(String text) {
    StringBuilder encoded = new StringBuilder();
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (Character.isLetterOrDigit(c) && c < 0x80 || ATTR_CHARS.indexOf(c) >= 0) {
        encoded.append((char) c);
      } else {
        encoded.append('%').append(String.format("%02X", c));
      }
    }
    return encoded.toString();
  }

  /** Splits at most every {@value #SEGMENT} characters, never inside a %XX escape. */
  private static List<String> segments(String encoded) {
    List<String> segments = new ArrayList<>();
    int start = 0;
    while (start < encoded.length()) {
      int end = Math.min(start + SEGMENT, encoded.length());
      if (end < encoded.length()) {
        int percent = encoded.lastIndexOf('%', end - 1);
        if (percent > end - 3 && percent >= start) {
          end = percent;
        }
      }
      segments.add(encoded.substring(start, end));
      start = end;
    }
    return segments;
  }
}
