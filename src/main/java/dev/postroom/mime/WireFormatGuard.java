package dev.postroom.mime;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Passes a composed message through and refuses, with an IOException, anything that is not 7-bit
 * CRLF-only text with lines of at most 998 octets: a bare CR or LF could end a line (or, followed
 * by a dot, the message) where the SMTP server sees it differently from us. {@link #finish()} makes
 * sure the message ends with CRLF, so the SMTP client only has to append ".".
 */
final class WireFormatGuard extends FilterOutputStream {

  static final int MAX_LINE = 998;

  private long offset;
  private int lineLength;
  private boolean afterCr;
  private boolean lineStart = true;

  WireFormatGuard(OutputStream out) {
    super(out);
  }

  @Override
  public void write(int b) throws IOException {
    check((byte) b);
    out.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    for (int i = off; i < off + len; i++) {
      check(b[i]);
    }
    out.write(b, off, len);
  }

  private void check(byte b) throws IOException {
    if (afterCr) {
      if (b != '\n') {
        throw refused("CR not followed by LF");
      }
      afterCr = false;
      lineStart = true;
      lineLength = 0;
    } else if (b == '\r') {
      afterCr = true;
    } else if (b == '\n') {
      throw refused("LF not preceded by CR");
    } else if (b <= 0) {
      throw refused(b == 0 ? "NUL byte" : "8-bit byte");
    } else {
      lineStart = false;
      if (++lineLength > MAX_LINE) {
        throw refused("line longer than " + MAX_LINE + " octets");
      }
    }
    offset++;
  }

  private IOException refused(String what) {
    return new IOException("composed message is not safe to send: " + what + " at octet " + offset);
  }

  /** Ends the last line with CRLF if it is not ended yet, then flushes. */
  void finish() throws IOException {
    if (afterCr) {
      write('\n');
    } else if (!lineStart) {
      write('\r');
      write('\n');
    }
    flush();
  }
}
