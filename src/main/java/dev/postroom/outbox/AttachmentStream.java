package dev.postroom.outbox;

import java.io.IOException;
import java.io.InputStream;
import org.jdbi.v3.core.Jdbi;

/**
 * An attachment's content read in chunks ({@code substring} of the bytea, one short query each), so
 * that memory per open stream is one chunk however large the attachment is.
 */
final class AttachmentStream extends InputStream {
  static final int CHUNK = 1 << 20;

  private final Jdbi jdbi;
  private final long id;
  private final long size;
  private long offset;
  private byte[] chunk = new byte[0];
  private int pos;

  AttachmentStream(Jdbi jdbi, long id, long size) {
    this.jdbi = jdbi;
    this.id = id;
    this.size = size;
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    return chunk[pos++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, chunk.length - pos);
    System.arraycopy(chunk, pos, b, off, n);
    pos += n;
    return n;
  }

  private boolean fill() throws IOException {
    if (pos < chunk.length) {
      return true;
    }
    if (offset >= size) {
      return false;
    }
    try {
      chunk =
          jdbi.withHandle(h ->
              h.createQuery(
                      "SELECT substring(content FROM :from::int FOR :len) FROM mail.attachment"
                          + " WHERE id = :id")
                  .bind("from", Math.toIntExact(offset + 1))
                  .bind("len", CHUNK)
                  .bind("id", id)
                  .mapTo(byte[].class)
                  .findOne()
                  .orElse(null));
    } catch (RuntimeException e) {
      throw new IOException("attachment " + id + " cannot be read: " + e.getMessage(), e);
    }
    if (chunk == null || chunk.length == 0) {
      throw new IOException("attachment " + id + " ended at " + offset + " of " + size + " octets");
    }
    offset += chunk.length;
    pos = 0;
    return true;
  }
}
