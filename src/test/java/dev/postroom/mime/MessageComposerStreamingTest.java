package dev.postroom.mime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import org.junit.jupiter.api.Test;

class MessageComposerStreamingTest {

  private static final int SIZE = 20 * 1024 * 1024;

  @Test
  void a20MegabyteAttachmentIsWrittenAsItIsReadNeverHeldWhole() throws Exception {
    // Streaming, checked without timing or allocation counters: at every write the attachment
    // may be read at most 1 MiB ahead of what reached the output (base64: 3 octets in, 4 out).
    GeneratedContent source = new GeneratedContent(SIZE);
    TestMail mail = new TestMail();
    mail.attachments.add(new AttachmentPart("big.bin", null, null, source));
    MailMessage message = mail.build();
    MessageComposer composer = new MessageComposer();
    CountingOutputStream out = new CountingOutputStream(source);
    composer.writeTo(message, out);

    assertThat(source.read).as("the whole attachment was read").isEqualTo(SIZE);
    assertThat(out.count).as("base64 of 20 MB plus CRLFs").isGreaterThan(SIZE * 4L / 3);
    assertThat(out.count).isEqualTo(composer.size(message));
    assertThat(out.mostAhead)
        .as("octets read from the attachment ahead of the output")
        .isLessThan(1024 * 1024);
  }

  @Test
  void anAttachmentThatFailsWhileBeingReadFailsTheCompositionInsteadOfTruncatingIt() {
    ContentSource failing =
        new ContentSource() {
          @Override
          public InputStream open() {
            return new SequenceInputStream(
                new ByteArrayInputStream(new byte[10_000]),
                new InputStream() {
                  @Override
                  public int read() throws IOException {
                    throw new IOException("large object vanished");
                  }
                });
          }

          @Override
          public long size() {
            return 20_000;
          }
        };
    TestMail mail = new TestMail();
    mail.attachments.add(new AttachmentPart("lost.bin", null, null, failing));

    assertThatThrownBy(
            () -> new MessageComposer().writeTo(mail.build(), new CountingOutputStream(null)))
        .isInstanceOf(IOException.class)
        .hasStackTraceContaining("large object vanished");
  }

  /** Deterministic bytes produced on demand, never held in memory; counts what was read. */
  private static final class GeneratedContent implements ContentSource {
    private final long size;
    volatile long read;

    GeneratedContent(long size) {
      this.size = size;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public InputStream open() {
      return new InputStream() {
        private long position;

        @Override
        public int read() {
          if (position >= size) {
            return -1;
          }
          read = position + 1;
          return (int) (position++ * 31 & 0xff);
        }

        @Override
        public int read(byte[] b, int off, int len) {
          if (position >= size) {
            return -1;
          }
          int n = (int) Math.min(len, size - position);
          for (int i = 0; i < n; i++) {
            b[off + i] = (byte) (position++ * 31);
          }
          read = position;
          return n;
        }
      };
    }
  }

  private static final class CountingOutputStream extends OutputStream {
    private final GeneratedContent source;
    long count;
    long mostAhead;

    CountingOutputStream(GeneratedContent source) {
      this.source = source;
    }

    @Override
    public void write(int b) {
      count++;
      track();
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
      track();
    }

    private void track() {
      if (source != null) {
        mostAhead = Math.max(mostAhead, source.read - count * 3 / 4);
      }
    }
  }
}
