package dev.postroom.smtp;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes message content as SMTP DATA (RFC 5321 §4.5.2, §2.3.8): every line ending becomes CRLF (a
 * bare CR, a bare LF and CRLF each end exactly one line), a line starting with "." gets a second
 * ".", and {@link #finish()} ends the data with CRLF "." CRLF, adding a CRLF first only when the
 * content does not end with a line ending. So no content can emit a premature end-of-data or one of
 * the smuggling sequences {@code <LF>.<LF>}, {@code <CR>.<CR>}.
 *
 * <p>{@link #close()} does not close the underlying stream.
 */
final class DotStuffingOutputStream extends FilterOutputStream {
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] END = {'.', '\r', '\n'};

  private boolean atLineStart = true;
  private boolean pendingCr;
  private boolean finished;

  DotStuffingOutputStream(OutputStream out) {
    super(out);
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (finished) {
      throw new IOException("data already finished");
    }
    int end = off + len;
    int run = off;
    for (int i = off; i < end; i++) {
      byte c = b[i];
      if (pendingCr) {
        pendingCr = false;
        out.write(CRLF);
        atLineStart = true;
        if (c == '\n') {
          run = i + 1;
          continue;
        }
      }
      if (c == '\r' || c == '\n') {
        out.write(b, run, i - run);
        run = i + 1;
        if (c == '\r') {
          pendingCr = true;
        } else {
          out.write(CRLF);
          atLineStart = true;
        }
      } else if (atLineStart) {
        atLineStart = false;
        if (c == '.') {
          out.write(b, run, i - run);
          out.write('.');
          run = i;
        }
      }
    }
    out.write(b, run, end - run);
  }

  /** Ends the data: a CRLF if the last line is open, then "." CRLF. */
  void finish() throws IOException {
    if (finished) {
      return;
    }
    if (pendingCr) {
      pendingCr = false;
      out.write(CRLF);
      atLineStart = true;
    }
    if (!atLineStart) {
      out.write(CRLF);
    }
    out.write(END);
    finished = true;
  }

  @Override
  public void flush() {
    // the session flushes once the end-of-data marker is written
  }

  @Override
  public void close() {
    // the socket stream stays open for the next command
  }
}
