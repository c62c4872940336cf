package dev.postroom.mime;

import java.nio.charset.StandardCharsets;

/** Content-ID values that stay valid msg-id text whatever file name or id they come from. */
final class ContentIds {

  private ContentIds() {}

  /**
   * The id with every octet that may not appear in a msg-id (non-ASCII, space, controls, angle
   * brackets, quotes, backslash) percent-encoded as RFC 2392 cid: URLs expect.
   */
  static String safe(String id) {
    StringBuilder safe = new StringBuilder();
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c > ' ' && c < 0x7f && "<>\"\\()[],;:".indexOf(c) < 0) {
        safe.append((char) c);
      } else {
        safe.append('%').append(String.format("%02X", c));
      }
    }
    return safe.toString();
  }
}
