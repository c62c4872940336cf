package dev.postroom.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DotStuffingOutputStreamTest {

  private static String stuff(String content) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    DotStuffingOutputStream out = new DotStuffingOutputStream(sink);
    out.write(content.getBytes(StandardCharsets.ISO_8859_1));
    out.finish();
    return sink.toString(StandardCharsets.ISO_8859_1);
  }

  private static String stuffByteByByte(String content) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    DotStuffingOutputStream out = new DotStuffingOutputStream(sink);
    for (byte b : content.getBytes(StandardCharsets.ISO_8859_1)) {
      out.write(b);
    }
    out.finish();
    return sink.toString(StandardCharsets.ISO_8859_1);
  }

  private static String show(String s) {
    return s.replace("\r", "<CR>").replace("\n", "<LF>");
  }

  @ParameterizedTest(name = "{0} is sent as {1}")
  @CsvSource({
    "'', '.<CR><LF>'",
    "'a', 'a<CR><LF>.<CR><LF>'",
    "'a<CR><LF>', 'a<CR><LF>.<CR><LF>'",
    "'.', '..<CR><LF>.<CR><LF>'",
    "'.<CR><LF>', '..<CR><LF>.<CR><LF>'",
    "'a<CR><LF>.<CR><LF>b', 'a<CR><LF>..<CR><LF>b<CR><LF>.<CR><LF>'",
    "'a<LF>.<LF>b', 'a<CR><LF>..<CR><LF>b<CR><LF>.<CR><LF>'",
    "'a<CR>.<CR>b', 'a<CR><LF>..<CR><LF>b<CR><LF>.<CR><LF>'",
    "'a<CR>', 'a<CR><LF>.<CR><LF>'",
    "'a<CR><CR><LF>b', 'a<CR><LF><CR><LF>b<CR><LF>.<CR><LF>'",
    "'a<LF><CR>b', 'a<CR><LF><CR><LF>b<CR><LF>.<CR><LF>'",
    "'..x<CR><LF>', '...x<CR><LF>.<CR><LF>'",
    "'a.b<CR><LF> .c', 'a.b<CR><LF> .c<CR><LF>.<CR><LF>'",
  })
  void everyLineEndingBecomesCrlfAndLeadingDotsAreDoubled(String in, String expected)
      throws IOException {
    String content = in.replace("<CR>", "\r").replace("<LF>", "\n");
    assertThat(show(stuff(content))).isEqualTo(expected);
    assertThat(show(stuffByteByByte(content))).isEqualTo(expected);
  }

  @Test
  void aCrlfSplitAcrossTwoWritesIsOneLineEnding() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    DotStuffingOutputStream out = new DotStuffingOutputStream(sink);
    out.write("a\r".getBytes(StandardCharsets.US_ASCII));
    out.write("\n.b".getBytes(StandardCharsets.US_ASCII));
    out.finish();
    assertThat(show(sink.toString(StandardCharsets.US_ASCII)))
        .isEqualTo("a<CR><LF>..b<CR><LF>.<CR><LF>");
  }

  @Test
  void writingAfterFinishFails() throws IOException {
    DotStuffingOutputStream out = new DotStuffingOutputStream(new ByteArrayOutputStream());
    out.finish();
    assertThatThrownBy(() -> out.write('x')).isInstanceOf(IOException.class);
  }

  @Test
  void closeLeavesTheSocketStreamOpen() throws IOException {
    boolean[] closed = {false};
    OutputStream socketLike =
        new ByteArrayOutputStream() {
          @Override
          public void close() {
            closed[0] = true;
          }
        };
    DotStuffingOutputStream out = new DotStuffingOutputStream(socketLike);
    out.finish();
    out.close();
    assertThat(closed[0]).isFalse();
  }

  @Test
  void noContentCanProduceAnEarlyEndOfData() throws IOException {
    String[] hostile = {"\r\n.\r\n", "\n.\n", "\r.\r", "\n.\r\n", "\r.\n", ".\r\n.\r\n"};
    for (String h : hostile) {
      String wire = stuff("x" + h + "MAIL FROM:<evil@example>\r\n");
      assertThat(wire.indexOf("\r\n.\r\n")).as(show(h)).isEqualTo(wire.length() - 5);
    }
  }
}
