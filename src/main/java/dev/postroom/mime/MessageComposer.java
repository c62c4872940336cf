package dev.postroom.mime;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Composes a {@link MailMessage} into RFC 5322 / MIME bytes.
 *
 * <p>Body structure, outermost first: multipart/mixed when there are attachments; multipart/related
 * when an HTML body has inline parts; multipart/alternative (text derived from the HTML, then the
 * HTML) for HTML; text/plain alone otherwise. Attachment content is streamed from its {@link
 * ContentSource} while writing. Thread-safe if the boundary supplier is.
 */
public final class MessageComposer {
  private static final String STREAM_PROVIDER_PROPERTY = "jakarta.mail.util.StreamProvider";

  static {
    // Jakarta Mail looks its StreamProvider up for every encoder it makes; without this property
    // that is a ServiceLoader scan of the class path per message part (a fifth of the dispatcher's
    // CPU in a drain). Naming the implementation turns the lookup into a class-name load.
    if (System.getProperty(STREAM_PROVIDER_PROPERTY) == null) {
      System.setProperty(
          STREAM_PROVIDER_PROPERTY, "org.eclipse.angus.mail.util.MailStreamProvider");
    }
  }

  private static final Pattern CID_REFERENCE = Pattern.compile("(?i)cid:([^\"'\\s<>()]+)");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Headers the composer writes from the message's fields that an extra header overrides. */
  private static final Set<String> REPLACEABLE_HEADERS =
      Set.of("importance", "x-priority", "sensitivity");

  private final Supplier<String> boundaries;

  /** A composer with random multipart boundaries. */
  public MessageComposer() {
    this(MessageComposer::randomBoundary);
  }

  /**
   * A composer taking multipart boundaries from {@code boundaries}, for reproducible output in
   * tests. Each boundary must be unique in the message and must not occur in any part's content.
   */
  public MessageComposer(Supplier<String> boundaries) {
    if (boundaries == null) {
      throw new IllegalArgumentException("boundaries must not be null");
    }
    this.boundaries = boundaries;
  }

  /** Writes the message to {@code out} (flushed, not closed), reading attachments as it goes. */
  public void writeTo(MailMessage message, OutputStream out) throws IOException {
    compose(message).writeChecked(out);
  }

  /** The whole message in memory; for small messages and tests. */
  public byte[] toBytes(MailMessage message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      writeTo(message, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * The exact size in octets that {@link #writeTo} will produce, without reading any attachment
   * (for SMTP SIZE and size limits); -1 if an attachment's size is unknown. Exact as long as the
   * boundary supplier gives boundaries of one length, as the default does.
   */
  public long size(MailMessage message) {
    long attachments = 0;
    List<AttachmentPart> empty = new ArrayList<>();
    for (AttachmentPart attachment : message.attachments()) {
      long size = attachment.content().size();
      if (size < 0) {
        return -1;
      }
      attachments += base64Length(size);
      empty.add(
          new AttachmentPart(
              attachment.filename(),
              attachment.contentType(),
              attachment.contentId(),
              ContentSource.of(new byte[0])));
    }
    MailMessage skeleton =
        new MailMessage(
            message.from(),
            message.to(),
            message.cc(),
            message.replyTo(),
            message.subject(),
            message.body(),
            message.format(),
            message.importance(),
            message.sensitivity(),
            message.headers(),
            empty,
            message.messageId(),
            message.date());
    return toBytes(skeleton).length + attachments;
  }

  /** Base64 as Jakarta Mail writes it: CRLF after every full line of 76 characters. */
  private static long base64Length(long size) {
    long characters = (size + 2) / 3 * 4;
    return characters + characters / 76 * 2;
  }

  static String randomBoundary() {
    byte[] bytes = new byte[12];
    RANDOM.nextBytes(bytes);
    return "=_postroom_" + HexFormat.of().formatHex(bytes);
  }

  private ComposedMessage compose(MailMessage message) throws IOException {
    try {
      ComposedMessage mime = new ComposedMessage(message.messageId());
      writeHeaders(message, mime);
      MimeMultipart root = body(message);
      if (root == null) {
        MimeParts.setText(mime, message.body() == null ? "" : message.body(), "plain");
      } else {
        mime.setContent(root);
      }
      mime.saveChanges();
      return mime;
    } catch (MessagingException e) {
      throw new IOException("could not compose message " + message.messageId(), e);
    }
  }

  private static void writeHeaders(MailMessage message, ComposedMessage mime)
      throws MessagingException {
    mime.setHeader("Date", HeaderText.date(message.date()));
    mime.setHeader("From", HeaderText.addressList("From", List.of(message.from())));
    if (message.to().isEmpty() && message.cc().isEmpty()) {
      mime.setHeader("To", "undisclosed-recipients:;");
    }
    if (!message.to().isEmpty()) {
      mime.setHeader("To", HeaderText.addressList("To", message.to()));
    }
    if (!message.cc().isEmpty()) {
      mime.setHeader("Cc", HeaderText.addressList("Cc", message.cc()));
    }
    if (!message.replyTo().isEmpty()) {
      mime.setHeader("Reply-To", HeaderText.addressList("Reply-To", message.replyTo()));
    }
    if (message.subject() != null) {
      mime.setHeader("Subject", HeaderText.unstructured("Subject", message.subject()));
    }
    switch (message.importance()) {
      case HIGH -> {
        mime.setHeader("Importance", "high");
        mime.setHeader("X-Priority", "1 (Highest)");
      }
      case LOW -> {
        mime.setHeader("Importance", "low");
        mime.setHeader("X-Priority", "5 (Lowest)");
      }
      case NORMAL -> {}
    }
    switch (message.sensitivity()) {
      case PERSONAL -> mime.setHeader("Sensitivity", "Personal");
      case PRIVATE -> mime.setHeader("Sensitivity", "Private");
      case CONFIDENTIAL -> mime.setHeader("Sensitivity", "Company-Confidential");
      case NORMAL -> {}
    }
    for (Map.Entry<String, String> header : message.headers().entrySet()) {
      String name = header.getKey();
      String value = HeaderText.unstructured(name, header.getValue());
      if (REPLACEABLE_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
        mime.setHeader(name, value);
      } else {
        mime.addHeader(name, value);
      }
    }
  }

  /** The multipart root, or null when the message is a single text/plain part. */
  private MimeMultipart body(MailMessage message) throws MessagingException {
    String body = message.body() == null ? "" : message.body();
    boolean html = message.format() == BodyFormat.HTML && !body.isEmpty();
    if (!html && message.attachments().isEmpty()) {
      return null;
    }
    Set<String> referenced = html ? cidReferences(body) : Set.of();
    List<MimeBodyPart> inline = new ArrayList<>();
    List<MimeBodyPart> attached = new ArrayList<>();
    for (AttachmentPart attachment : message.attachments()) {
      String contentId = html ? inlineContentId(attachment, referenced) : null;
      MimeBodyPart part = MimeParts.attachment(attachment, contentId);
      if (contentId == null && attachment.contentId() != null) {
        part.setContentID("<" + ContentIds.safe(attachment.contentId()) + ">");
      }
      (contentId == null ? attached : inline).add(part);
    }

    MimeBodyPart content = new MimeBodyPart();
    MimeMultipart contentMultipart = null;
    if (html) {
      contentMultipart = MimeParts.multipart("alternative", boundaries.get(), Map.of());
      MimeBodyPart text = new MimeBodyPart();
      MimeParts.setText(text, HtmlToText.convert(body), "plain");
      MimeBodyPart htmlPart = new MimeBodyPart();
      MimeParts.setText(htmlPart, body, "html");
      contentMultipart.addBodyPart(text);
      contentMultipart.addBodyPart(htmlPart);
    } else {
      MimeParts.setText(content, body, "plain");
    }
    if (!inline.isEmpty()) {
      MimeMultipart related =
          MimeParts.multipart("related", boundaries.get(), Map.of("type", "multipart/alternative"));
      related.addBodyPart(MimeParts.wrap(contentMultipart));
      for (MimeBodyPart part : inline) {
        related.addBodyPart(part);
      }
      contentMultipart = related;
    }
    if (attached.isEmpty()) {
      return contentMultipart;
    }
    MimeMultipart mixed = MimeParts.multipart("mixed", boundaries.get(), Map.of());
    mixed.addBodyPart(contentMultipart == null ? content : MimeParts.wrap(contentMultipart));
    for (MimeBodyPart part : attached) {
      mixed.addBodyPart(part);
    }
    return mixed;
  }

  /** The Content-ID that makes this attachment inline, or null if it is a plain attachment. */
  private static String inlineContentId(AttachmentPart attachment, Set<String> referenced) {
    if (attachment.contentId() != null) {
      return ContentIds.safe(attachment.contentId());
    }
    return referenced.contains(attachment.filename())
        ? ContentIds.safe(attachment.filename())
        : null;
  }

  /** Every {@code cid:} target in the HTML, as written and percent-decoded. */
  private static Set<String> cidReferences(String html) {
    Set<String> references = new HashSet<>();
    Matcher matcher = CID_REFERENCE.matcher(html);
    while (matcher.find()) {
      String reference = matcher.group(1);
      references.add(reference);
      try {
        references.add(URLDecoder.decode(reference.replace("+", "%2B"), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException notPercentEncoded) {
        // the reference as written is all there is
      }
    }
    return references;
  }
}
