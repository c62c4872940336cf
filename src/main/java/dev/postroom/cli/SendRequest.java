package dev.postroom.cli;

import dev.postroom.outbox.Outbox;
import dev.postroom.outbox.OutgoingMail;
import java.sql.Connection;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The arguments of one {@code mail.send} call, as the command line gathers them; null means the
 * function's default. Address lists use the function's own syntax ({@code ;} or {@code ,}).
 */
record SendRequest(
    String recipients,
    String copyRecipients,
    String blindCopyRecipients,
    String subject,
    String body,
    boolean html,
    String profile,
    String from,
    String replyTo,
    String importance,
    Integer priority,
    OffsetDateTime sendAt,
    String idempotencyKey,
    List<Attachment> attachments) {

  record Attachment(String filename, String contentType, byte[] content) {}

  SendRequest {
    Objects.requireNonNull(recipients, "recipients");
    attachments = List.copyOf(attachments);
  }

  static SendRequest simple(String recipients, String subject, String body, String profile) {
    return new SendRequest(
        recipients,
        null,
        null,
        subject,
        body,
        false,
        profile,
        null,
        null,
        null,
        null,
        null,
        null,
        List.of());
  }

  SendRequest withCopies(String cc, String bcc) {
    return new SendRequest(
        recipients,
        cc,
        bcc,
        subject,
        body,
        html,
        profile,
        from,
        replyTo,
        importance,
        priority,
        sendAt,
        idempotencyKey,
        attachments);
  }

  SendRequest withHtml(List<Attachment> files) {
    return new SendRequest(
        recipients,
        copyRecipients,
        blindCopyRecipients,
        subject,
        body,
        true,
        profile,
        from,
        replyTo,
        importance,
        priority,
        sendAt,
        idempotencyKey,
        files);
  }

  /** Enqueues through {@link Outbox#send} and returns the new (or first) mail's id. */
  long send(Connection c) {
    OutgoingMail.Builder mail =
        OutgoingMail.builder()
            .recipients(recipients)
            .subject(subject)
            .body(body)
            .bodyFormat(html ? OutgoingMail.BodyFormat.HTML : OutgoingMail.BodyFormat.TEXT)
            .profileName(profile)
            .copyRecipients(copyRecipients)
            .blindCopyRecipients(blindCopyRecipients)
            .fromAddress(from)
            .replyTo(replyTo)
            .sendAt(sendAt == null ? null : sendAt.toInstant())
            .idempotencyKey(idempotencyKey);
    if (importance != null) {
      mail.importance(importance(importance));
    }
    if (priority != null) {
      mail.priority(priority);
    }
    attachments.forEach(a -> mail.attachment(a.filename(), a.contentType(), a.content()));
    return Outbox.send(c, mail.build());
  }

  private static OutgoingMail.Importance importance(String value) {
    try {
      return OutgoingMail.Importance.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new CliFailure("invalid importance: " + value + " (expected low, normal or high)");
    }
  }
}
