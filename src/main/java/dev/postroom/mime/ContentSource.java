package dev.postroom.mime;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Where an attachment's bytes come from. The composer opens it once per composition and reads it to
 * the end while writing, so large content never has to sit in memory as a whole.
 */
public interface ContentSource {

  /** A fresh stream over the whole content; the composer closes it. */
  InputStream open() throws IOException;

  /** The content length in bytes, or -1 if unknown. */
  long size();

  /** Content already in memory. The array is not copied and must not be changed afterwards. */
  static ContentSource of(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("bytes must not be null");
    }
    return new ContentSource() {
      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes);
      }

      @Override
      public long size() {
        return bytes.length;
      }
    };
  }
}
