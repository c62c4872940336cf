package dev.postroom.dkim;

import dev.postroom.smtp.MessageContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs messages with the keys of their From domain (relaxed/relaxed, RFC 6376 §5).
 *
 * <p>{@link #sign} reads the message once: the header fields are kept, the body is hashed as it
 * streams past and not kept. The signed content writes the DKIM-Signature fields and then the
 * message again, checking on the way that it is the message that was signed; if the content writes
 * different octets the second time, the write fails before the end of data, so no server accepts a
 * message with a broken signature.
 */
public final class DkimSigner {
  /**
   * Signed when present, in this order; each instance once, From once more (over-signing, so that a
   * From added in transit breaks the signature).
   */
  static final List<String> SIGNED_HEADERS =
      List.of(
          "from",
          "to",
          "cc",
          "subject",
          "date",
          "message-id",
          "mime-version",
          "content-type",
          "reply-to",
          "list-unsubscribe",
          "list-unsubscribe-post");

  private static final int FOLD_AT = 72;
  private static final Logger log = LoggerFactory.getLogger(DkimSigner.class);

  private final Function<String, List<DkimKey>> keys;
  private final Clock clock;

  /** {@code keys} gives the keys for a From domain (lower case), newest first; empty for none. */
  public DkimSigner(Function<String, List<DkimKey>> keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
  }

  /**
   * The message with a DKIM-Signature for each key of its From domain, or {@code content} itself
   * when the domain has none. Throws IOException when the message cannot be read or signed.
   */
  public MessageContent sign(MessageContent content) throws IOException {
    RelaxedBody body = new RelaxedBody();
    HeaderFields headers = new HeaderFields(body);
    content.writeTo(headers);
    List<HeaderFields.Field> fields = headers.finish();
    String domain = fromDomain(fields);
    List<DkimKey> signing = domain == null ? List.of() : keys.apply(domain);
    if (signing.isEmpty()) {
      return content;
    }
    byte[] bodyHash = body.hash();
    ByteArrayOutputStream signatures = new ByteArrayOutputStream();
    for (DkimKey key : signing) {
      signatures.writeBytes(signature(key, fields, bodyHash));
    }
    return new SignedContent(signatures.toByteArray(), content, fields, bodyHash);
  }

  /**
   * {@link #sign}, or {@code content} unsigned (with a warning naming {@code what}) when it cannot
   * be signed: an unsigned mail is better than none, and a content that cannot be read fails its
   * delivery attempt anyway.
   */
  public MessageContent signOrKeep(MessageContent content, String what) {
    try {
      return sign(content);
    } catch (IOException | RuntimeException e) {
      log.warn("{}: not DKIM-signed: {}", what, e.getMessage());
      return content;
    }
  }

  private byte[] signature(DkimKey key, List<HeaderFields.Field> fields, byte[] bodyHash)
      throws IOException {
    List<String> names = new ArrayList<>();
    Map<String, Deque<HeaderFields.Field>> byName = new HashMap<>();
    for (HeaderFields.Field f : fields) {
      byName.computeIfAbsent(f.name(), n -> new ArrayDeque<>()).push(f);
    }
    for (String name : SIGNED_HEADERS) {
      int count = byName.getOrDefault(name, new ArrayDeque<>()).size();
      for (int i = 0; i < count + (name.equals("from") ? 1 : 0); i++) {
        names.add(name);
      }
    }
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (String name : names) {
      // bottom-up: the last instance is signed first (RFC 6376 §5.4.2); a missing one is empty
      HeaderFields.Field f = byName.getOrDefault(name, new ArrayDeque<>()).poll();
      if (f != null) {
        data.writeBytes(f.relaxed());
      }
    }
    String unsigned =
        "DKIM-Signature: v=1; a="
            + key.algorithm().tag()
            + "; c=relaxed/relaxed; d="
            + key.domain()
            + "; s="
            + key.selector()
            + ";\r\n\tt="
            + clock.instant().getEpochSecond()
            + "; h="
            + String.join(":", names)
            + ";\r\n\tbh="
            + Base64.getEncoder().encodeToString(bodyHash)
            + ";\r\n\tb=";
    HeaderFields.Field self =
        new HeaderFields.Field("dkim-signature", unsigned.getBytes(StandardCharsets.US_ASCII));
    byte[] canonical = self.relaxed();
    // the signature field itself goes in without its final CRLF (RFC 6376 §3.7)
    data.write(canonical, 0, canonical.length - 2);
    byte[] b;
    try {
      b = key.algorithm().sign(key.privateKey(), data.toByteArray());
    } catch (GeneralSecurityException e) {
      throw new IOException(key + " cannot sign: " + e.getClass().getSimpleName());
    }
    return (unsigned + fold(Base64.getEncoder().encodeToString(b)) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private static String fold(String base64) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < base64.length(); i += FOLD_AT) {
      if (i > 0) {
        out.append("\r\n\t");
      }
      out.append(base64, i, Math.min(base64.length(), i + FOLD_AT));
    }
    return out.toString();
  }

  /** The domain of the (first) From address, lower case; null if there is none. */
  static String fromDomain(List<HeaderFields.Field> fields) {
    for (HeaderFields.Field f : fields) {
      if (f.name().equals("from")) {
        String value = new String(f.raw(), StandardCharsets.UTF_8);
        value = value.substring(value.indexOf(':') + 1).replaceAll("\\s+", " ").strip();
        int gt = value.lastIndexOf('>');
        int lt = gt < 0 ? -1 : value.lastIndexOf('<', gt);
        String address = lt >= 0 ? value.substring(lt + 1, gt) : value;
        int at = address.lastIndexOf('@');
        if (at < 0 || at == address.length() - 1) {
          return null;
        }
        return address.substring(at + 1).strip().toLowerCase(Locale.ROOT);
      }
    }
    return null;
  }

  /** The signature fields, then the message as it was signed. */
  private static final class SignedContent implements MessageContent {
    private final byte[] signatures;
    private final MessageContent message;
    private final List<HeaderFields.Field> fields;
    private final byte[] bodyHash;

    SignedContent(
        byte[] signatures,
        MessageContent message,
        List<HeaderFields.Field> fields,
        byte[] bodyHash) {
      this.signatures = signatures;
      this.message = message;
      this.fields = fields;
      this.bodyHash = bodyHash;
    }

    @Override
    public long size() {
      return signatures.length + message.size();
    }

    @Override
    public boolean eightBit() {
      return message.eightBit();
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      out.write(signatures);
      RelaxedBody body = new RelaxedBody();
      HeaderFields headers = new HeaderFields(body);
      message.writeTo(new Tee(out, headers));
      if (!headers.finish().equals(fields) || !java.util.Arrays.equals(body.hash(), bodyHash)) {
        throw new IOException("the message changed between DKIM signing and sending; not sent");
      }
    }

    @Override
    public String toString() {
      return "DKIM-signed " + message;
    }
  }

  /** Writes to the wire and to the check at once. */
  private static final class Tee extends OutputStream {
    private final OutputStream out;
    private final OutputStream check;

    Tee(OutputStream out, OutputStream check) {
      this.out = out;
      this.check = check;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      check.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      check.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }
  }
}
