package dev.postroom.smtp;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A pass over message content before any command is sent: the longest line (with the same idea of a
 * line ending as {@link DotStuffingOutputStream}) and whether any octet is above 127.
 */
final class ContentScan extends OutputStream {
  /** RFC 5321 §4.5.3.1.6: 1000 octets including CRLF. */
  static final int MAX_LINE = 998;

  private long lineLength;
  private long longestLine;
  private boolean eightBit;
  private boolean lastCr;

  static ContentScan of(MessageContent content) throws IOException {
    ContentScan scan = new ContentScan();
    content.writeTo(scan);
    return scan;
  }

  @Override
  public void write(int b) {
    byte[] one = {(byte) b};
    write(one, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      byte c = b[i];
      if (c == '\n') {
        if (!lastCr) {
          endLine();
        }
        lastCr = false;
      } else if (c == '\r') {
        endLine();
        lastCr = true;
      } else {
        lastCr = false;
        lineLength++;
        if (c < 0) {
          eightBit = true;
        }
      }
    }
  }

  private void endLine() {
    longestLine = Math.max(longestLine, lineLength);
    lineLength = 0;
  }

  long longestLine() {
    return Math.max(longestLine, lineLength);
  }

  boolean eightBit() {
    return eightBit;
  }
}
