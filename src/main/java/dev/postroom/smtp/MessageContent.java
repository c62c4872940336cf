package dev.postroom.smtp;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An RFC 5322 message as bytes. The client normalises line endings to CRLF and dot-stuffs while
 * sending, so {@link #writeTo} writes the message as it is.
 */
public interface MessageContent {
  /** Size in octets, for the SIZE parameter (RFC 1870); an estimate is fine. */
  long size();

  /** Whether any octet is above 127 (the client then needs 8BITMIME). */
  boolean eightBit();

  /** Writes the message; may be called more than once. */
  void writeTo(OutputStream out) throws IOException;

  static MessageContent of(byte[] rfc5322) {
    byte[] bytes = rfc5322.clone();
    boolean eight = false;
    for (byte b : bytes) {
      if (b < 0) {
        eight = true;
        break;
      }
    }
    boolean eightBit = eight;
    return new MessageContent() {
      @Override
      public long size() {
        return bytes.length;
      }

      @Override
      public boolean eightBit() {
        return eightBit;
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        out.write(bytes);
      }

      @Override
      public String toString() {
        return "MessageContent[" + bytes.length + " octets]";
      }
    };
  }
}
