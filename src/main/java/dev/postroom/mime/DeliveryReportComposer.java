package dev.postroom.mime;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Composes an RFC 3464 delivery status notification: {@code multipart/report;
 * report-type=delivery-status} holding a readable text/plain part, the message/delivery-status
 * fields and, when known, the original headers as text/rfc822-headers. It carries {@code
 * Auto-Submitted: auto-replied} (RFC 3834) so that well-behaved systems never answer it.
 */
public final class DeliveryReportComposer {

  private final Supplier<String> boundaries;

  public DeliveryReportComposer() {
    this(MessageComposer::randomBoundary);
  }

  /** A composer with the given multipart boundaries, for reproducible output in tests. */
  public DeliveryReportComposer(Supplier<String> boundaries) {
    if (boundaries == null) {
      throw new IllegalArgumentException("boundaries must not be null");
    }
    this.boundaries = boundaries;
  }

  public void writeTo(DeliveryReport report, OutputStream out) throws IOException {
    compose(report).writeChecked(out);
  }

  public byte[] toBytes(DeliveryReport report) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      writeTo(report, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private ComposedMessage compose(DeliveryReport report) throws IOException {
    try {
      ComposedMessage mime = new ComposedMessage(report.messageId());
      mime.setHeader("Date", HeaderText.date(report.date()));
      mime.setHeader("From", HeaderText.addressList("From", List.of(report.from())));
      mime.setHeader("To", HeaderText.addressList("To", List.of(report.to())));
      mime.setHeader(
          "Subject", HeaderText.unstructured("Subject", DeliveryReportText.subject(report)));
      mime.setHeader("Auto-Submitted", "auto-replied");

      MimeMultipart multipart =
          MimeParts.multipart("report", boundaries.get(), Map.of("report-type", "delivery-status"));
      MimeBodyPart text = new MimeBodyPart();
      MimeParts.setText(text, DeliveryReportText.body(report), "plain");
      multipart.addBodyPart(text);
      MimeBodyPart status = new MimeBodyPart();
      MimeParts.setContent(status, DeliveryStatusFields.of(report), "message/delivery-status");
      multipart.addBodyPart(status);
      if (report.originalHeaders() != null) {
        MimeBodyPart headers = new MimeBodyPart();
        String block = report.originalHeaders().stripTrailing() + "\r\n";
        MimeParts.setContent(headers, block, "text/rfc822-headers; charset=UTF-8");
        multipart.addBodyPart(headers);
      }
      mime.setContent(multipart);
      mime.saveChanges();
      return mime;
    } catch (MessagingException e) {
      throw new IOException("could not compose delivery report " + report.messageId(), e);
    }
  }
}
