package dev.postroom.dkim;

import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The SHA-256 hash of a body in relaxed canonicalization (RFC 6376 §3.4.4), computed as the body
 * streams through: whitespace runs become one space, whitespace at line ends and empty lines at the
 * end go, and a non-empty body ends with CRLF. Line endings are read as the SMTP client sends them:
 * CRLF, a bare CR and a bare LF each end one line.
 */
final class RelaxedBody extends OutputStream {
  private static final byte[] CRLF = {'\r', '\n'};

  private final MessageDigest digest;
  private boolean pendingCr;
  private boolean pendingSpace;
  private long pendingLines;
  private boolean any;
  private byte[] hash;

  RelaxedBody() {
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    if (hash != null) {
      throw new IllegalStateException("body already hashed");
    }
    int end = off + len;
    int run = -1;
    for (int i = off; i < end; i++) {
      byte c = b[i];
      if (pendingCr) {
        pendingCr = false;
        if (c == '\n') {
          continue;
        }
      }
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        if (run >= 0) {
          digest.update(b, run, i - run);
          run = -1;
        }
        if (c == ' ' || c == '\t') {
          pendingSpace = true;
        } else {
          pendingCr = c == '\r';
          pendingSpace = false;
          pendingLines++;
        }
        continue;
      }
      if (run < 0) {
        startContent();
        run = i;
      }
    }
    if (run >= 0) {
      digest.update(b, run, end - run);
    }
  }

  /** Emits the line endings and the space held back, now that content follows them. */
  private void startContent() {
    for (; pendingLines > 0; pendingLines--) {
      digest.update(CRLF);
    }
    if (pendingSpace) {
      digest.update((byte) ' ');
      pendingSpace = false;
    }
    any = true;
  }

  /** The body hash (bh=); ends the body. */
  byte[] hash() {
    if (hash == null) {
      if (any) {
        digest.update(CRLF);
      }
      hash = digest.digest();
    }
    return hash.clone();
  }
}
