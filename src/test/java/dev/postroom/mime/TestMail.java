package dev.postroom.mime;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A mutable builder for {@link MailMessage} in tests, starting from a plain text mail. */
final class TestMail {
  MailAddress from = new MailAddress("sender@example.com", "Postroom Sender");
  List<MailAddress> to = new ArrayList<>(List.of(MailAddress.of("ann@example.com")));
  List<MailAddress> cc = new ArrayList<>();
  List<MailAddress> replyTo = new ArrayList<>();
  String subject = "Invoice 42";
  String body = "Hello Ann,\nyour invoice is attached.\n";
  BodyFormat format = BodyFormat.TEXT;
  Importance importance = Importance.NORMAL;
  Sensitivity sensitivity = Sensitivity.NORMAL;
  Map<String, String> headers = new LinkedHashMap<>();
  List<AttachmentPart> attachments = new ArrayList<>();
  String messageId = "<42.1a2b3c@postroom.example>";
  Instant date = Instant.parse("2026-11-28T15:30:21Z");

  TestMail html(String html) {
    body = html;
    format = BodyFormat.HTML;
    return this;
  }

  TestMail attach(String filename, String contentType, byte[] content) {
    attachments.add(new AttachmentPart(filename, contentType, null, ContentSource.of(content)));
    return this;
  }

  MailMessage build() {
    return new MailMessage(
        from,
        to,
        cc,
        replyTo,
        subject,
        body,
        format,
        importance,
        sensitivity,
        headers,
        attachments,
        messageId,
        date);
  }
}
