package dev.postroom.mime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class MessageComposerStreamingTest {

  private static final int SIZE = 20 * 1024 * 1024;

  @Test
  void composingA20MegabyteAttachmentAllocatesFarLessThanTheAttachmentItself() throws Exception {
    TestMail mail = new TestMail();
    mail.attachments.add(new AttachmentPart("big.bin", null, null, new GeneratedContent(SIZE)));
    MailMessage message = mail.build();
    MessageComposer composer = new MessageComposer();
    composer.writeTo(message, new CountingOutputStream()); // warm up class loading

    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    CountingOutputStream out = new CountingOutputStream();
    composer.writeTo(message, out);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;

    assertThat(out.count).as("base64 of 20 MB plus CRLFs").isGreaterThan(SIZE * 4L / 3);
    assertThat(out.count).isEqualTo(composer.size(message));
    assertThat(allocated)
        .as("bytes allocated while composing (one copy would be %d)", SIZE)
        .isLessThan(SIZE / 8);
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
            () -> new MessageComposer().writeTo(mail.build(), new CountingOutputStream()))
        .isInstanceOf(IOException.class)
        .hasStackTraceContaining("large object vanished");
  }

  /** Deterministic bytes produced on demand, never held in memory. */
  private record GeneratedContent(long size) implements ContentSource {
    @Override
    public InputStream open() {
      return new InputStream() {
        private long position;

        @Override
        public int read() {
          return position < size ? (int) (position++ * 31 & 0xff) : -1;
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
          return n;
        }
      };
    }
  }

  private static final class CountingOutputStream extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}
