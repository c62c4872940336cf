package dev.postroom.dkim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Splits a message as it streams through: the header fields are kept (each with its folding), the
 * body goes on to {@code body}. The header block is bounded; a message with more header octets than
 * that is refused with an IOException rather than held in memory.
 */
final class HeaderFields extends OutputStream {
  /** A header field as written: name, colon, value with its folding line breaks as CRLF. */
  record Field(String name, byte[] raw) {
    Field {
      raw = raw.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Field f && f.name.equals(name) && Arrays.equals(f.raw, raw);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(raw);
    }

    /** RFC 6376 §3.4.2: lower-case name, unfolded, whitespace runs as one space, trimmed. */
    byte[] relaxed() {
      ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + 2);
      out.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
      out.write(':');
      int colon = indexOf(raw, (byte) ':');
      boolean space = false;
      boolean started = false;
      for (int i = colon + 1; i < raw.length; i++) {
        byte c = raw[i];
        if (c == '\r' || c == '\n') {
          continue;
        }
        if (c == ' ' || c == '\t') {
          space = true;
          continue;
        }
        if (space && started) {
          out.write(' ');
        }
        space = false;
        started = true;
        out.write(c);
      }
      out.write('\r');
      out.write('\n');
      return out.toByteArray();
    }
  }

  static final int MAX_HEADER_OCTETS = 1024 * 1024;

  private final OutputStream body;
  private final List<Field> fields = new ArrayList<>();
  private final ByteArrayOutputStream field = new ByteArrayOutputStream();
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private long headerOctets;
  private boolean inBody;
  private boolean pendingCr;

  HeaderFields(OutputStream body) {
    this.body = body;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    int end = off + len;
    int i = off;
    while (i < end && !inBody) {
      byte c = b[i];
      if (pendingCr) {
        pendingCr = false;
        if (c == '\n') {
          i++;
          continue;
        }
      }
      if (c == '\r' || c == '\n') {
        pendingCr = c == '\r';
        endLine();
        i++;
        if (inBody && pendingCr && i < end && b[i] == '\n') {
          pendingCr = false;
          i++;
        }
        continue;
      }
      if (++headerOctets > MAX_HEADER_OCTETS) {
        throw new IOException(
            "header block over " + MAX_HEADER_OCTETS + " octets: message not signed");
      }
      line.write(c);
      i++;
    }
    if (i < end) {
      if (pendingCr) {
        pendingCr = false;
        if (b[i] == '\n') {
          i++;
        }
      }
      body.write(b, i, end - i);
    }
  }

  private void endLine() {
    byte[] bytes = line.toByteArray();
    line.reset();
    if (bytes.length > 0 && (bytes[0] == ' ' || bytes[0] == '\t') && field.size() > 0) {
      field.write('\r');
      field.write('\n');
      field.writeBytes(bytes);
      return;
    }
    finishField();
    if (bytes.length == 0) {
      inBody = true;
    } else {
      field.writeBytes(bytes);
    }
  }

  private void finishField() {
    if (field.size() == 0) {
      return;
    }
    byte[] raw = field.toByteArray();
    field.reset();
    int colon = indexOf(raw, (byte) ':');
    String name =
        new String(raw, 0, colon < 0 ? raw.length : colon, StandardCharsets.ISO_8859_1)
            .strip()
            .toLowerCase(Locale.ROOT);
    fields.add(new Field(name, colon < 0 ? appendColon(raw) : raw));
  }

  private static byte[] appendColon(byte[] raw) {
    byte[] out = Arrays.copyOf(raw, raw.length + 1);
    out[raw.length] = ':';
    return out;
  }

  /**
   * Ends the message: the header fields in message order (a message of headers only has no body).
   */
  List<Field> finish() {
    if (!inBody) {
      if (line.size() > 0) {
        endLine();
      }
      finishField();
      inBody = true;
    }
    return List.copyOf(fields);
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
