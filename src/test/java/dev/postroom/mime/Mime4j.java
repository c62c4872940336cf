package dev.postroom.mime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.codec.DecoderUtil;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.Field;

/** Reads composed messages back with Apache mime4j, a parser independent of Jakarta Mail. */
final class Mime4j {

  private Mime4j() {}

  /** Parses the message after checking it is 7-bit, CRLF-only, with no line over 998 octets. */
  static Message parse(byte[] message) {
    assertWireSafe(message);
    try {
      return new DefaultMessageBuilder().parseMessage(new ByteArrayInputStream(message));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void assertWireSafe(byte[] message) {
    int line = 0;
    for (int i = 0; i < message.length; i++) {
      byte b = message[i];
      assertThat(b).as("octet %d is 7-bit and not NUL", i).isPositive();
      if (b == '\r') {
        assertThat(i + 1 < message.length && message[i + 1] == '\n')
            .as("CR at %d is followed by LF", i)
            .isTrue();
      } else if (b == '\n') {
        assertThat(i > 0 && message[i - 1] == '\r').as("LF at %d follows CR", i).isTrue();
        line = 0;
      } else {
        line++;
        assertThat(line).as("line length at octet %d", i).isLessThanOrEqualTo(998);
      }
    }
    assertThat(message).as("message ends with CRLF").endsWith('\r', '\n');
  }

  /** The header's value, unfolded and RFC 2047 decoded; null if absent. */
  static String header(Entity entity, String name) {
    Field field = entity.getHeader().getField(name);
    if (field == null) {
      return null;
    }
    String unfolded = field.getBody().replaceAll("\r\n(?=[ \t])", "");
    return DecoderUtil.decodeEncodedWords(unfolded, DecodeMonitor.SILENT);
  }

  /** Every single-part entity, depth first. */
  static List<Entity> leaves(Entity entity) {
    List<Entity> leaves = new ArrayList<>();
    collect(entity, leaves);
    return leaves;
  }

  private static void collect(Entity entity, List<Entity> leaves) {
    if (entity.getBody() instanceof Multipart multipart) {
      multipart.getBodyParts().forEach(part -> collect(part, leaves));
    } else {
      leaves.add(entity);
    }
  }

  static Entity leaf(Entity message, String mimeType) {
    return leaves(message).stream()
        .filter(e -> e.getMimeType().equals(mimeType) && e.getDispositionType() == null)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + mimeType + " body part"));
  }

  static String text(Entity entity) {
    try (Reader reader = ((TextBody) entity.getBody()).getReader()) {
      StringBuilder text = new StringBuilder();
      char[] buffer = new char[4096];
      for (int n; (n = reader.read(buffer)) > 0; ) {
        text.append(buffer, 0, n);
      }
      return text.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] bytes(Entity entity) {
    try (InputStream in = ((SingleBody) entity.getBody()).getInputStream()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Entity> attachments(Entity message) {
    return leaves(message).stream().filter(e -> e.getDispositionType() != null).toList();
  }
}
