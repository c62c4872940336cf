package dev.postroom.mime;

import jakarta.activation.DataHandler;
import jakarta.activation.DataSource;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Builds the leaves and containers of a message tree with Jakarta Mail. */
final class MimeParts {

  static final String TRANSFER_ENCODING = "Content-Transfer-Encoding";
  private static final int MAX_LINE = 998;

  private MimeParts() {}

  /**
   * Sets UTF-8 text as the part's content with every line break as CRLF, in the transfer encoding
   * that keeps it 7-bit: as is when it already is, else quoted-printable or base64, whichever is
   * smaller.
   */
  static void setText(MimePart part, String text, String subtype) throws MessagingException {
    String canonical = crlf(text);
    part.setText(canonical, HeaderText.CHARSET, subtype);
    part.setHeader(TRANSFER_ENCODING, transferEncoding(canonical.getBytes(StandardCharsets.UTF_8)));
  }

  /** Sets text of any content type (a delivery-status block, headers) with CRLF line breaks. */
  static void setContent(MimePart part, String text, String contentType) throws MessagingException {
    byte[] bytes = crlf(text).getBytes(StandardCharsets.UTF_8);
    part.setDataHandler(new DataHandler(new BytesDataSource(bytes, contentType)));
    part.setHeader("Content-Type", contentType);
    part.setHeader(TRANSFER_ENCODING, transferEncoding(bytes));
  }

  /** Text with CRLF, lone CR and lone LF all turned into CRLF. */
  static String crlf(String text) {
    StringBuilder out = null;
    int n = text.length();
    for (int i = 0; i < n; i++) {
      char ch = text.charAt(i);
      boolean crlf = ch == '\r' && i + 1 < n && text.charAt(i + 1) == '\n';
      if (crlf) {
        if (out != null) {
          out.append("\r\n");
        }
        i++;
      } else if (ch == '\r' || ch == '\n') {
        if (out == null) {
          out = new StringBuilder(n + 16).append(text, 0, i);
        }
        out.append("\r\n");
      } else if (out != null) {
        out.append(ch);
      }
    }
    return out == null ? text : out.toString();
  }

  /** 7bit, quoted-printable or base64 for CRLF-canonical bytes. */
  static String transferEncoding(byte[] bytes) {
    if (isSevenBit(bytes)) {
      return "7bit";
    }
    long base64 = (bytes.length + 2L) / 3 * 4;
    base64 += (base64 + 75) / 76 * 2;
    return quotedPrintableLength(bytes) <= base64 ? "quoted-printable" : "base64";
  }

  private static boolean isSevenBit(byte[] bytes) {
    int line = 0;
    for (byte b : bytes) {
      if (b <= 0) {
        return false;
      }
      if (b == '\n') {
        line = 0;
      } else if (b != '\r' && ++line > MAX_LINE) {
        return false;
      }
    }
    return true;
  }

  private static long quotedPrintableLength(byte[] bytes) {
    CountingOutputStream counter = new CountingOutputStream();
    try (OutputStream qp = MimeUtility.encode(counter, "quoted-printable")) {
      qp.write(bytes);
    } catch (IOException | MessagingException e) {
      throw new IllegalStateException("quoted-printable encoding into memory failed", e);
    }
    return counter.count;
  }

  /** A multipart container with the given boundary and extra Content-Type parameters. */
  static MimeMultipart multipart(String subtype, String boundary, Map<String, String> parameters)
      throws MessagingException {
    return new BoundedMultipart(subtype, boundary, parameters);
  }

  static MimeBodyPart wrap(MimeMultipart multipart) throws MessagingException {
    MimeBodyPart part = new MimeBodyPart();
    part.setContent(multipart);
    return part;
  }

  /** An attachment, base64 encoded, read from its source only when the message is written. */
  static MimeBodyPart attachment(AttachmentPart attachment, String contentId)
      throws MessagingException {
    MimeBodyPart part = new MimeBodyPart();
    String type = ContentTypes.of(attachment);
    part.setDataHandler(new DataHandler(new SourceDataSource(attachment, type)));
    String filename = attachment.filename();
    part.setHeader("Content-Type", ParameterText.with(14, type, "name", filename));
    part.setHeader(TRANSFER_ENCODING, "base64");
    String disposition = contentId == null ? Part.ATTACHMENT : Part.INLINE;
    part.setHeader(
        "Content-Disposition", ParameterText.with(21, disposition, "filename", filename));
    if (contentId != null) {
      part.setContentID("<" + contentId + ">");
    }
    return part;
  }

  private static final class BoundedMultipart extends MimeMultipart {
    BoundedMultipart(String subtype, String boundary, Map<String, String> parameters)
        throws MessagingException {
      super(subtype);
      ContentType type = new ContentType("multipart", subtype, null);
      parameters.forEach(type::setParameter);
      type.setParameter("boundary", boundary);
      contentType = type.toString();
    }
  }

  private record SourceDataSource(AttachmentPart attachment, String type) implements DataSource {
    @Override
    public InputStream getInputStream() throws IOException {
      return attachment.content().open();
    }

    @Override
    public OutputStream getOutputStream() {
      throw new UnsupportedOperationException("attachments are read-only");
    }

    @Override
    public String getContentType() {
      return type;
    }

    @Override
    public String getName() {
      return attachment.filename();
    }
  }

  private record BytesDataSource(byte[] bytes, String type) implements DataSource {
    @Override
    public InputStream getInputStream() {
      return new ByteArrayInputStream(bytes);
    }

    @Override
    public OutputStream getOutputStream() {
      throw new UnsupportedOperationException("read-only");
    }

    @Override
    public String getContentType() {
      return type;
    }

    @Override
    public String getName() {
      return null;
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
